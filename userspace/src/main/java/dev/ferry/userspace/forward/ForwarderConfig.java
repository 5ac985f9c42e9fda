package dev.ferry.userspace.forward;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Tunables of every forwarder.
 *
 * @param connectTimeouts  one per connect attempt; each attempt goes to the next endpoint (upstream userspace
 *                         mode: 250ms, 500ms, 1s, 2s)
 * @param tcpIdleTimeout   a TCP connection with no bytes either way this long is closed on both sides
 * @param udpIdleTimeout   a UDP session with no datagram either way this long expires
 * @param eventLoopThreads 0 = one per CPU this process may use
 * @param spliceReadBytes  a TCP connection moves to splice(2), where bytes stay in the kernel, once one read
 *                         brings at least this many bytes (the sender is that far ahead: a bulk transfer);
 *                         0 = right after connecting, negative = never. Only with the epoll transport.
 */
public record ForwarderConfig(List<Duration> connectTimeouts, Duration tcpIdleTimeout, Duration udpIdleTimeout,
                              int eventLoopThreads, long spliceReadBytes) {

    /**
     * See {@link #defaults()}: request/response traffic reads far less at a time and stays on the Netty path
     * (splicing small messages costs more than copying them); bulk transfers reach this within a few reads.
     */
    public static final long DEFAULT_SPLICE_READ_BYTES = 64 * 1024;

    public ForwarderConfig {
        Objects.requireNonNull(connectTimeouts, "connectTimeouts");
        connectTimeouts = List.copyOf(connectTimeouts);
        if (connectTimeouts.isEmpty()) {
            throw new IllegalArgumentException("connectTimeouts: at least one attempt is needed");
        }
        for (Duration timeout : connectTimeouts) {
            requirePositive(timeout, "connectTimeouts");
        }
        requirePositive(tcpIdleTimeout, "tcpIdleTimeout");
        requirePositive(udpIdleTimeout, "udpIdleTimeout");
        if (eventLoopThreads < 0) {
            throw new IllegalArgumentException("eventLoopThreads: must be >= 0, got " + eventLoopThreads);
        }
    }

    /** With {@link #DEFAULT_SPLICE_READ_BYTES}. */
    public ForwarderConfig(List<Duration> connectTimeouts, Duration tcpIdleTimeout, Duration udpIdleTimeout,
                           int eventLoopThreads) {
        this(connectTimeouts, tcpIdleTimeout, udpIdleTimeout, eventLoopThreads, DEFAULT_SPLICE_READ_BYTES);
    }

    /**
     * Upstream's values: connect 250ms/500ms/1s/2s, TCP idle 24h, UDP idle 250ms; one event loop per CPU; splice
     * after {@link #DEFAULT_SPLICE_READ_BYTES}.
     */
    public static ForwarderConfig defaults() {
        return new ForwarderConfig(
                List.of(Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2)),
                Duration.ofHours(24), Duration.ofMillis(250), 0);
    }

    /** This config with another {@link #spliceReadBytes}. */
    public ForwarderConfig withSpliceReadBytes(long bytes) {
        return new ForwarderConfig(connectTimeouts, tcpIdleTimeout, udpIdleTimeout, eventLoopThreads, bytes);
    }

    private static void requirePositive(Duration d, String field) {
        Objects.requireNonNull(d, field);
        // Netty's timers take milliseconds; anything shorter would round to "no timeout".
        if (d.toMillis() < 1) {
            throw new IllegalArgumentException(field + ": must be at least 1ms, got " + d);
        }
    }
}
