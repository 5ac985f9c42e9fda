package dev.ferry.userspace.forward;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Scheduler;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * One UDP listening socket of a service port and its sessions: per client address (ip:port) a channel connected to
 * the chosen endpoint; replies go back out through this listening socket, so they come from the address the client
 * sent to.
 *
 * <p>Threads: the listening channel, every session channel (registered on the same loop), the session cache's
 * scheduled clean-ups and its removal listener (run inline by them) all run on one event loop; {@link #close} may run on
 * any thread (Caffeine and Netty's close are thread-safe). Failure: a datagram that cannot be sent (no endpoint,
 * a full socket buffer, an unreachable endpoint) is dropped, as the network would.
 */
final class UdpListener implements Listener {

    private final Channel channel;
    private final InetSocketAddress address;
    private final Cache<InetSocketAddress, UdpSession> sessions;

    private UdpListener(Channel channel, Cache<InetSocketAddress, UdpSession> sessions) {
        this.channel = channel;
        this.address = (InetSocketAddress) channel.localAddress();
        this.sessions = sessions;
    }

    /** Binds exactly {@code bind}; blocks until bound. Must not run on an event loop. */
    static UdpListener open(Context context, InetSocketAddress bind, Balancer balancer, ForwarderStats stats)
            throws IOException {
        EventLoop loop = context.group().next();
        Cache<InetSocketAddress, UdpSession> sessions = Caffeine.newBuilder()
                .expireAfterAccess(context.config().udpIdleTimeout())
                // Caffeine expires lazily; its scheduler (the loop) runs a clean-up only while some session
                // is due, so an idle listener costs no timer at all (expired sessions' sockets close at most
                // about a second late, Caffeine's pacing; an expired session is never used again).
                .scheduler(Scheduler.forScheduledExecutorService(loop))
                // Inline: removals then run on whichever thread swept (the loop) or closed, never on a pool.
                .executor(Runnable::run)
                .removalListener((InetSocketAddress client, UdpSession session, RemovalCause cause) -> {
                    if (session != null) {
                        session.close();
                    }
                })
                .build();
        Channel channel = context.transport().newDatagramChannel();
        channel.pipeline().addLast(new Frontend(context, balancer, stats, sessions));
        ChannelFuture bound = loop.register(channel).awaitUninterruptibly();
        if (bound.isSuccess()) {
            bound = channel.bind(bind).awaitUninterruptibly();
        }
        if (!bound.isSuccess()) {
            channel.close();
            throw Binding.failure(bind, bound.cause());
        }
        return new UdpListener(channel, sessions);
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        Binding.closeAndRelease(channel);
        sessions.invalidateAll();
        sessions.cleanUp();
    }

    /** Client datagrams arriving on the listening socket. */
    private static final class Frontend extends SimpleChannelInboundHandler<DatagramPacket> {
        private final Context context;
        private final Balancer balancer;
        private final ForwarderStats stats;
        private final Cache<InetSocketAddress, UdpSession> sessions;

        Frontend(Context context, Balancer balancer, ForwarderStats stats,
                 Cache<InetSocketAddress, UdpSession> sessions) {
            super(false); // the payload's ownership passes to the session
            this.context = context;
            this.balancer = balancer;
            this.stats = stats;
            this.sessions = sessions;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            InetSocketAddress client = packet.sender();
            ByteBuf payload = packet.content();
            UdpSession session = sessions.getIfPresent(client);
            if (session == null || !session.isOpen()) {
                InetSocketAddress endpoint = balancer.choose(client.getAddress());
                if (endpoint == null) {
                    payload.release();
                    return;
                }
                session = UdpSession.open(context.transport(), ctx.channel(), client, endpoint, stats, sessions);
                sessions.put(client, session);
            }
            session.send(payload);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A datagram socket's errors (e.g. ICMP-reported) concern one datagram, not the listener: keep serving.
        }
    }
}
