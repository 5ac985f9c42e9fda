package dev.ferry.userspace.forward;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one service port. Event loops add to them (LongAdder: no contention between loops on the data path);
 * any thread reads them. A reading is not a consistent snapshot across counters, only each counter is exact.
 */
public final class ForwarderStats {

    final LongAdder active = new LongAdder();
    final LongAdder total = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder spliced = new LongAdder();
    private final ConcurrentMap<InetSocketAddress, LongAdder> connectFailures = new ConcurrentHashMap<>();

    ForwarderStats() {
    }

    /** TCP connections open plus live UDP sessions. */
    public long activeConnections() {
        return active.sum();
    }

    /** Accepted TCP connections plus UDP sessions created. */
    public long totalConnections() {
        return total.sum();
    }

    /** Client to endpoint. */
    public long bytesIn() {
        return bytesIn.sum();
    }

    /** Endpoint to client. */
    public long bytesOut() {
        return bytesOut.sum();
    }

    /** TCP connections moved to splice(2) (bulk transfers; see {@link ForwarderConfig#spliceReadBytes()}). */
    public long splicedConnections() {
        return spliced.sum();
    }

    /** Per endpoint: connects refused, timed out or unreachable (also endpoints no longer in use). */
    public Map<InetSocketAddress, Long> connectFailures() {
        Map<InetSocketAddress, Long> copy = new HashMap<>();
        connectFailures.forEach((endpoint, count) -> copy.put(endpoint, count.sum()));
        return Map.copyOf(copy);
    }

    void connectFailed(InetSocketAddress endpoint) {
        connectFailures.computeIfAbsent(endpoint, e -> new LongAdder()).increment();
    }

    void opened() {
        total.increment();
        active.increment();
    }

    void closed() {
        active.decrement();
    }
}
