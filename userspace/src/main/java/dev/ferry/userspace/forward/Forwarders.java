package dev.ferry.userspace.forward;

import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.ArrayList;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Owns the event loops (native epoll when available, NIO otherwise) and every {@link ServicePortForwarder}.
 *
 * <p>Threads: thread-safe; the loops are daemon threads named "ferry-forward-N". Each accepted connection lives on
 * one loop for its whole life (its backend connection too). {@link #close} closes every forwarder, then stops the
 * loops (bounded wait).
 */
public final class Forwarders implements AutoCloseable {

    /** Per direction of a spliced connection: bytes in flight between the two sockets (measured: BENCHMARKS.md). */
    static final int SPLICE_PIPE_BYTES = 1 << 20;

    private final Context context;
    private final Set<ServicePortForwarder> forwarders = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public Forwarders(ForwarderConfig config) {
        this(config, Transport.best());
    }

    /** Tests choose the transport to cover both. */
    Forwarders(ForwarderConfig config, Transport transport) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(transport, "transport");
        // One loop per CPU this process may run on (not Netty's 2 x): a forwarder's loops are
        // busy, and more loops than CPUs only adds context switches (measured in docs/BENCHMARKS.md).
        int threads = config.eventLoopThreads() > 0 ? config.eventLoopThreads() : Runtime.getRuntime().availableProcessors();
        EventLoopGroup group = transport.newGroup(threads, new DefaultThreadFactory("ferry-forward", true));
        // splice needs the sockets' descriptors, which only the epoll transport gives
        SplicePumps pumps = transport == Transport.EPOLL && config.spliceReadBytes() >= 0
                ? SplicePumps.start(threads, config.tcpIdleTimeout().toNanos(), SPLICE_PIPE_BYTES)
                : null;
        this.context = new Context(transport, group, pumps, config);
    }

    /** "epoll" or "nio". */
    public String transport() {
        return context.transport().label;
    }

    /** Whether bulk TCP connections move to splice(2) here (epoll transport, splice available, not disabled). */
    public boolean splices() {
        return context.pumps() != null;
    }

    /** A forwarder for this service port (TCP or UDP, from the name's protocol), with no listener and no endpoint. */
    public ServicePortForwarder create(ServicePortName name) {
        Objects.requireNonNull(name, "name");
        if (name.protocol() != Protocol.TCP && name.protocol() != Protocol.UDP) {
            throw new IllegalArgumentException(name + ": userspace mode forwards TCP and UDP only, not " + name.protocol());
        }
        if (closed) {
            throw new IllegalStateException("forwarders are closed");
        }
        ServicePortForwarder forwarder = new ServicePortForwarder(name, context, forwarders::remove);
        forwarders.add(forwarder);
        return forwarder;
    }

    @Override
    public void close() {
        closed = true;
        for (ServicePortForwarder forwarder : new ArrayList<>(forwarders)) {
            forwarder.close();
        }
        // No quiet period: every channel is closed already; bounded so a stuck loop cannot hang shutdown.
        context.group().shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (context.pumps() != null) {
            context.pumps().close();
        }
    }
}
