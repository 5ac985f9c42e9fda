package dev.ferry.userspace.forward;

import com.github.benmanes.caffeine.cache.Cache;
import dev.ferry.core.IpAddresses;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/**
 * One client's UDP session: a datagram channel connected to the chosen endpoint (so the kernel only passes replies
 * from that endpoint), registered on the listener's event loop; every method runs there except {@link #close}
 * (thread-safe). Replies are written through the listening channel to the client. A send that fails (e.g. the
 * endpoint is unreachable) drops that datagram; the session lives until it expires or its listener closes.
 */
final class UdpSession {

    private static final Logger log = LoggerFactory.getLogger(UdpSession.class);

    private final Channel channel;
    private final ForwarderStats stats;

    private UdpSession(Channel channel, ForwarderStats stats) {
        this.channel = channel;
        this.stats = stats;
    }

    /** Runs on the listener's loop, so registering and connecting (a datagram connect does no I/O) finish at once. */
    static UdpSession open(Transport transport, Channel listener, InetSocketAddress client, InetSocketAddress endpoint,
                           ForwarderStats stats, Cache<InetSocketAddress, UdpSession> sessions) {
        Channel channel = transport.newDatagramChannel();
        channel.pipeline().addLast(new Replies(listener, client, endpoint, stats, sessions));
        listener.eventLoop().register(channel);
        ChannelFuture connected = channel.connect(endpoint);
        if (connected.isDone() && !connected.isSuccess()) {
            stats.connectFailed(endpoint);
            log.debug("UDP session from {} to {} failed: {}", IpAddresses.hostPort(client), IpAddresses.hostPort(endpoint),
                    connected.cause().toString());
        }
        stats.opened();
        return new UdpSession(channel, stats);
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    void send(ByteBuf payload) {
        // Drop rather than queue when the socket buffer is full: UDP senders expect loss, not proxy memory growth.
        if (!channel.isActive() || !channel.isWritable()) {
            payload.release();
            return;
        }
        stats.bytesIn.add(payload.readableBytes());
        channel.writeAndFlush(payload, channel.voidPromise());
    }

    void close() {
        if (channel.isOpen()) {
            channel.close();
        }
        stats.closed();
    }

    /** Datagrams from the endpoint, sent back to the client through the listening socket. */
    private static final class Replies extends SimpleChannelInboundHandler<DatagramPacket> {
        private final Channel listener;
        private final InetSocketAddress client;
        private final InetSocketAddress endpoint;
        private final ForwarderStats stats;
        private final Cache<InetSocketAddress, UdpSession> sessions;

        Replies(Channel listener, InetSocketAddress client, InetSocketAddress endpoint, ForwarderStats stats,
                Cache<InetSocketAddress, UdpSession> sessions) {
            super(false);
            this.listener = listener;
            this.client = client;
            this.endpoint = endpoint;
            this.stats = stats;
            this.sessions = sessions;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket reply) {
            ByteBuf payload = reply.content();
            if (!listener.isWritable()) {
                payload.release();
                return;
            }
            // A reply is traffic too: it keeps the session from expiring.
            sessions.getIfPresent(client);
            stats.bytesOut.add(payload.readableBytes());
            listener.writeAndFlush(new DatagramPacket(payload, client), listener.voidPromise());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // E.g. ECONNREFUSED from an ICMP port unreachable, UDP's "refused": counted like a failed TCP connect.
            // That datagram is lost; the session stays until it expires.
            stats.connectFailed(endpoint);
            log.debug("UDP session from {} to {}: {}", IpAddresses.hostPort(client), IpAddresses.hostPort(endpoint),
                    cause.toString());
        }
    }
}
