package dev.ferry.userspace.forward;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * One service port: a balancer shared by zero or more listeners (sockets), and its counters.
 *
 * <p>Threads: the methods are called from any thread (normally the daemon's sync thread) and block until the
 * socket is bound or closed, so they must not be called on a forwarder event loop. Changes to the set of listeners
 * hold this object's monitor; connections run on the event loops and never take it.
 */
public final class ServicePortForwarder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ServicePortForwarder.class);

    private final ServicePortName name;
    private final Context context;
    private final Consumer<ServicePortForwarder> onClose;
    private final Balancer balancer = new Balancer();
    private final ForwarderStats stats = new ForwarderStats();
    private final Map<InetSocketAddress, Listener> listeners = new ConcurrentHashMap<>();
    private boolean closed;

    ServicePortForwarder(ServicePortName name, Context context, Consumer<ServicePortForwarder> onClose) {
        this.name = name;
        this.context = context;
        this.onClose = onClose;
    }

    /**
     * Binds exactly this address (port 0: the kernel picks one) and returns the bound address.
     *
     * @throws java.net.BindException when the address is taken or not local
     */
    public synchronized InetSocketAddress listen(InetSocketAddress bind) throws IOException {
        Objects.requireNonNull(bind, "bind");
        if (bind.isUnresolved()) {
            throw new IllegalArgumentException("bind: need a resolved address, got " + IpAddresses.hostPort(bind));
        }
        if (closed) {
            throw new IllegalStateException(name + ": forwarder is closed");
        }
        Listener listener = name.protocol() == Protocol.TCP
                ? TcpListener.open(context, bind, balancer, stats)
                : UdpListener.open(context, bind, balancer, stats);
        listeners.put(listener.address(), listener);
        log.info("{}: listening on {} ({})", name, IpAddresses.hostPort(listener.address()), name.protocol());
        return listener.address();
    }

    /** Closes that listener and the connections/sessions it accepted; an unknown address is ignored. */
    public synchronized void unlisten(InetSocketAddress bound) {
        Objects.requireNonNull(bound, "bound");
        Listener listener = listeners.remove(bound);
        if (listener != null) {
            listener.close();
            log.info("{}: stopped listening on {}", name, IpAddresses.hostPort(bound));
        }
    }

    public Set<InetSocketAddress> listening() {
        return Set.copyOf(listeners.keySet());
    }

    /**
     * New endpoints and affinity (0 = none) for NEW connections and sessions; established ones keep going. With no
     * endpoints, new TCP connections are reset and datagrams dropped. Equal input is a no-op (keeps the RR position).
     */
    public void update(List<InetSocketAddress> endpoints, int stickyMaxAgeSeconds) {
        balancer.update(endpoints, stickyMaxAgeSeconds);
    }

    public ForwarderStats stats() {
        return stats;
    }

    public ServicePortName name() {
        return name;
    }

    /** Closes every listener and every connection/session. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (InetSocketAddress bound : new ArrayList<>(listeners.keySet())) {
                unlisten(bound);
            }
        }
        onClose.accept(this);
    }
}
