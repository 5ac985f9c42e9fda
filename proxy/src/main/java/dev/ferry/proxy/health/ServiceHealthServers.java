package dev.ferry.proxy.health;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.ProxySnapshot;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP server per Service with a healthCheckNodePort, opened and closed as Services come and
 * go (a changed port closes the old server and opens the new one), answering with the Service's
 * count of local endpoints and the proxy's health (see {@link HealthCheckReply}).
 *
 * <p>Threads: {@link #sync} runs on the caller's thread (the daemon's sync thread) and binds
 * there; a port that cannot be bound (in use, say) is reported once, naming the Service, address
 * and cause, and retried every {@link #retryInterval} on the "ferry-healthcheck-retry" thread
 * and at every sync, until it binds or the Service no longer needs it; the sync itself never
 * fails because of it. Requests are served on one Netty event loop thread ("ferry-healthcheck"),
 * which reads the counts from a concurrent map, so an answer always reflects the last sync.
 * Everything that changes the set of servers holds this object's monitor.
 */
public final class ServiceHealthServers implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ServiceHealthServers.class);
    private static final Duration BIND_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    private static final int IDLE_SECONDS = 60;

    /** One Service's open server: its port, listening sockets, and accepted connections. */
    private record Instance(int port, List<Channel> listeners, ChannelGroup connections) {
    }

    private final ProxyHealth health;
    private final BindAddresses bindAddresses;
    private final Duration retryInterval;
    private final Map<NamespacedName, Integer> counts = new ConcurrentHashMap<>();

    // Guarded by this.
    private final Map<NamespacedName, Instance> open = new HashMap<>();
    private final Map<NamespacedName, String> failing = new HashMap<>(); // Service -> last bind error
    private Map<NamespacedName, Integer> wanted = Map.of();
    private NodeInfo node;
    private EventLoopGroup loop;
    private ScheduledExecutorService retrier;
    private ScheduledFuture<?> retry;
    private boolean closed;

    /**
     * @param nodePortAddresses --nodeport-addresses as given (CIDRs and "primary"; empty = all)
     * @param retryInterval     how soon a port that failed to bind is tried again
     */
    public ServiceHealthServers(ProxyHealth health, List<String> nodePortAddresses, Duration retryInterval) {
        this(health, BindAddresses.system(nodePortAddresses), retryInterval);
    }

    ServiceHealthServers(ProxyHealth health, BindAddresses bindAddresses, Duration retryInterval) {
        this.health = Objects.requireNonNull(health, "health");
        this.bindAddresses = Objects.requireNonNull(bindAddresses, "bindAddresses");
        if (retryInterval.isNegative() || retryInterval.isZero()) {
            throw new IllegalArgumentException("retry interval must be positive: " + retryInterval);
        }
        this.retryInterval = retryInterval;
    }

    /** Makes the servers and their answers match {@code snapshot}. Never throws. */
    public void sync(ProxySnapshot snapshot) {
        try {
            apply(HealthCheckTargets.of(snapshot), snapshot.node());
        } catch (RuntimeException e) {
            log.error("updating the health check node ports failed; trying again at the next sync", e);
        }
    }

    synchronized void apply(HealthCheckTargets targets, NodeInfo node) {
        if (closed) {
            return;
        }
        this.node = node;
        this.wanted = targets.ports();
        // counts first, so a server opened below answers with the new count at once
        for (NamespacedName service : wanted.keySet()) {
            counts.put(service, targets.localEndpoints().getOrDefault(service, 0));
        }
        for (NamespacedName service : List.copyOf(open.keySet())) {
            Integer port = wanted.get(service);
            if (port == null || port != open.get(service).port()) {
                closeServer(service, port == null ? "the Service no longer has a health check node port"
                        : "its health check node port moved to " + port);
            }
        }
        counts.keySet().retainAll(wanted.keySet());
        failing.keySet().retainAll(wanted.keySet());
        openMissing();
    }

    /** The port each Service's server listens on now (not the ones still failing to bind). */
    synchronized Map<NamespacedName, Integer> listening() {
        Map<NamespacedName, Integer> out = new HashMap<>();
        open.forEach((service, instance) -> out.put(service, instance.port()));
        return out;
    }

    /** Services whose port could not be bound yet, with the last error. */
    synchronized Map<NamespacedName, String> failing() {
        return Map.copyOf(failing);
    }

    private void openMissing() {
        wanted.forEach((service, port) -> {
            if (!open.containsKey(service)) {
                openServer(service, port);
            }
        });
        scheduleRetryIfNeeded();
    }

    private void openServer(NamespacedName service, int port) {
        BindAddresses.Plan plan;
        try {
            plan = bindAddresses.resolve(node);
        } catch (RuntimeException e) {
            // upstream's fallback when the node's addresses cannot be read
            log.error("cannot find the addresses matching {} ({}); the health check node ports listen on all addresses",
                    bindAddresses, e.getMessage());
            plan = BindAddresses.Plan.WILDCARD;
        }
        List<SocketAddress> addresses = new ArrayList<>();
        if (plan.wildcard()) {
            addresses.add(new InetSocketAddress(port));
        } else {
            for (InetAddress a : plan.addresses()) {
                addresses.add(new InetSocketAddress(a, port));
            }
            if (addresses.isEmpty()) {
                log.warn("health check node port {} of Service {}: no local address matches {}; not listening",
                        port, service, bindAddresses);
            }
        }
        ChannelGroup connections = new DefaultChannelGroup("healthcheck-" + service, GlobalEventExecutor.INSTANCE);
        ServerBootstrap bootstrap = bootstrap(service, connections);
        List<Channel> listeners = new ArrayList<>();
        for (SocketAddress address : addresses) {
            ChannelFuture bound = bootstrap.bind(address);
            boolean done = bound.awaitUninterruptibly(BIND_TIMEOUT.toMillis());
            if (!done || !bound.isSuccess()) {
                String cause = !done ? "bind timed out" : describe(bound.cause());
                listeners.forEach(Channel::close); // all or nothing, so a retry starts clean
                bound.channel().close();
                String previous = failing.put(service, cause);
                if (!cause.equals(previous)) {
                    log.error("health check node port for Service {}: cannot listen on {}: {}; retrying every {} ms",
                            service, show(address), cause, retryInterval.toMillis());
                } else {
                    log.debug("health check node port for Service {}: still cannot listen on {}: {}",
                            service, show(address), cause);
                }
                return;
            }
            listeners.add(bound.channel());
        }
        open.put(service, new Instance(port, listeners, connections));
        if (failing.remove(service) != null) {
            log.info("health check node port for Service {} now listening on port {}", service, port);
        } else if (!addresses.isEmpty()) {
            log.info("health check node port for Service {} listening on {}", service,
                    plan.wildcard() ? "*:" + port : addresses.stream().map(ServiceHealthServers::show).toList());
        }
    }

    private ServerBootstrap bootstrap(NamespacedName service, ChannelGroup connections) {
        if (loop == null) {
            loop = new NioEventLoopGroup(1, new DefaultThreadFactory("ferry-healthcheck", true));
        }
        return new ServerBootstrap()
                .group(loop)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(
                                new ReadTimeoutHandler(IDLE_SECONDS),
                                new HttpServerCodec(),
                                new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                new HealthCheckHandler(service, ServiceHealthServers.this::count, health::healthy));
                    }
                });
    }

    private OptionalInt count(NamespacedName service) {
        Integer c = counts.get(service);
        return c == null ? OptionalInt.empty() : OptionalInt.of(c);
    }

    private void closeServer(NamespacedName service, String why) {
        Instance instance = open.remove(service);
        log.info("closing the health check node port {} of Service {}: {}", instance.port(), service, why);
        for (Channel listener : instance.listeners()) {
            listener.close().awaitUninterruptibly(BIND_TIMEOUT.toMillis());
        }
        instance.connections().close().awaitUninterruptibly(BIND_TIMEOUT.toMillis());
    }

    private void scheduleRetryIfNeeded() {
        if (failing.isEmpty() || closed || (retry != null && !retry.isDone())) {
            return;
        }
        if (retrier == null) {
            retrier = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ferry-healthcheck-retry");
                t.setDaemon(true);
                return t;
            });
        }
        retry = retrier.schedule(this::retryFailed, retryInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private synchronized void retryFailed() {
        retry = null;
        if (closed) {
            return;
        }
        try {
            openMissing();
        } catch (RuntimeException e) {
            log.error("retrying the health check node ports failed", e);
            scheduleRetryIfNeeded();
        }
    }

    private static String show(SocketAddress address) {
        if (address instanceof InetSocketAddress a) {
            return a.getAddress().isAnyLocalAddress() ? "*:" + a.getPort() : IpAddresses.hostPort(a.getAddress(), a.getPort());
        }
        return String.valueOf(address);
    }

    private static String describe(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** Closes every server and stops the threads. */
    @Override
    public void close() {
        EventLoopGroup group;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (retry != null) {
                retry.cancel(false);
            }
            for (NamespacedName service : List.copyOf(open.keySet())) {
                closeServer(service, "the proxy is stopping");
            }
            group = loop;
        }
        if (retrier != null) {
            retrier.shutdownNow();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
