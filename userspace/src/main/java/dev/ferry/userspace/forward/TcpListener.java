package dev.ferry.userspace.forward;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One TCP listening socket of a service port. Accepted connections are spread over the event loops by Netty; each
 * becomes a {@link TcpConnection} living on its own loop. The channel group (thread-safe, drops closed channels
 * itself) holds every client and backend channel, and the spliced set every connection handed to a splice pump, so
 * that {@link #close} can close them all.
 */
final class TcpListener implements Listener {

    /**
     * Per direction, the bytes queued in the proxy before it stops reading the other side: small enough that a slow
     * reader costs little memory, large enough to keep a fast path busy while the kernel's socket buffers drain.
     */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    /**
     * Read sizes adapt between 64 B and 1 MiB (Netty's default stops at 64 KiB): with AUTO_READ off there is one
     * read per request, so bulk transfers need big reads to keep syscalls and loop turns per byte low; small
     * request/response traffic stays on small buffers. Measured on loopback (iperf3, 2 GiB, median of 5): about
     * 1.3x the 64 KiB ceiling's throughput for a third less CPU. Bulk transfers go on to splice (SplicePump).
     */
    static final AdaptiveRecvByteBufAllocator READS = new AdaptiveRecvByteBufAllocator(64, 2048, 1024 * 1024);

    private final Channel server;
    private final ChannelGroup channels;
    private final Set<SplicedConnection> spliced;
    private final SplicePumps pumps;
    private final InetSocketAddress address;

    private TcpListener(Channel server, ChannelGroup channels, Set<SplicedConnection> spliced, SplicePumps pumps) {
        this.server = server;
        this.channels = channels;
        this.spliced = spliced;
        this.pumps = pumps;
        this.address = (InetSocketAddress) server.localAddress();
    }

    /** Binds exactly {@code bind}; blocks until bound. Must not run on an event loop. */
    static TcpListener open(Context context, InetSocketAddress bind, Balancer balancer, ForwarderStats stats)
            throws IOException {
        ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        Set<SplicedConnection> spliced = ConcurrentHashMap.newKeySet();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(context.group())
                .channelFactory(() -> context.transport().newServerChannel(bind.getAddress()))
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 4096)
                // Accepted channels have TCP_NODELAY on already (Netty's default, checked by TcpNoDelayTest).
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, READS)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel client) {
                        channels.add(client);
                        new TcpConnection(client, context, balancer, stats, channels, spliced).start();
                    }
                });
        ChannelFuture bound = bootstrap.bind(bind).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw Binding.failure(bind, bound.cause());
        }
        return new TcpListener(bound.channel(), channels, spliced, context.pumps());
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        Binding.closeAndRelease(server);
        // Closing each client closes its backend too (TcpConnection); closing both here is quicker and also stops
        // connects still in progress.
        channels.close().awaitUninterruptibly();
        SplicePumps.closeAll(spliced, pumps);
    }
}
