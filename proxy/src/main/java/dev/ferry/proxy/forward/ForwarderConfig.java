package dev.ferry.proxy.forward;

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
 */
public record ForwarderConfig(
        List<Duration> connectTimeouts, Duration tcpIdleTimeout, Duration udpIdleTimeout, int eventLoopThreads) {

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

    /** Upstream's values: connect 250ms/500ms/1s/2s, TCP idle 24h, UDP idle 250ms; one event loop per CPU. */
    public static ForwarderConfig defaults() {
        return new ForwarderConfig(
                List.of(Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2)),
                Duration.ofHours(24), Duration.ofMillis(250), 0);
    }

    private static void requirePositive(Duration d, String field) {
        Objects.requireNonNull(d, field);
        // Netty's timers take milliseconds; anything shorter would round to "no timeout".
        if (d.toMillis() < 1) {
            throw new IllegalArgumentException(field + ": must be at least 1ms, got " + d);
        }
    }
}
