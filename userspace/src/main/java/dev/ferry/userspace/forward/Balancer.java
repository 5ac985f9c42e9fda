package dev.ferry.userspace.forward;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ferry.core.IpAddresses;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses the endpoint of each new TCP connection or UDP session: strict round robin, or ClientIP affinity.
 *
 * <p>Threads: {@link #update} runs on the caller's (sync) thread and replaces an immutable {@link State} through a
 * volatile field; {@link #choose} and {@link #next} run on any event loop and only read that state, bump its
 * AtomicInteger cursor and touch the (thread-safe) affinity cache: no lock on the connection path. A connection
 * that chose from an old state keeps its endpoint; updates only affect later choices.
 */
final class Balancer {

    /** Bounds the affinity cache's memory if a flood of client addresses arrives within one timeout. */
    private static final long MAX_AFFINITY_ENTRIES = 1 << 20;

    private record State(
            List<InetSocketAddress> list,
            InetSocketAddress[] endpoints,
            Set<InetSocketAddress> members,
            int stickySeconds,
            Cache<InetAddress, InetSocketAddress> affinity,
            AtomicInteger cursor) {
    }

    private volatile State state = new State(List.of(), new InetSocketAddress[0], Set.of(), 0, null, new AtomicInteger());

    /** Unchanged input keeps the round-robin position; a changed list restarts at its first endpoint (as upstream). */
    synchronized void update(List<InetSocketAddress> endpoints, int stickySeconds) {
        Objects.requireNonNull(endpoints, "endpoints");
        if (stickySeconds < 0) {
            throw new IllegalArgumentException("stickyMaxAgeSeconds: must be >= 0, got " + stickySeconds);
        }
        List<InetSocketAddress> list = List.copyOf(endpoints);
        for (InetSocketAddress endpoint : list) {
            if (endpoint.isUnresolved() || endpoint.getPort() == 0) {
                throw new IllegalArgumentException("endpoints: need a resolved address and a port, got "
                        + IpAddresses.hostPort(endpoint));
            }
        }
        State old = state;
        if (old.list.equals(list) && old.stickySeconds == stickySeconds) {
            return;
        }
        Set<InetSocketAddress> members = Set.copyOf(list);
        Cache<InetAddress, InetSocketAddress> affinity = old.affinity;
        if (stickySeconds == 0) {
            affinity = null;
        } else if (affinity == null || old.stickySeconds != stickySeconds) {
            affinity = Caffeine.newBuilder()
                    .expireAfterAccess(Duration.ofSeconds(stickySeconds))
                    .maximumSize(MAX_AFFINITY_ENTRIES)
                    .build();
        } else {
            // Same timeout: clients keep their endpoint if it is still there.
            affinity.asMap().values().removeIf(endpoint -> !members.contains(endpoint));
        }
        AtomicInteger cursor = old.list.equals(list) ? old.cursor : new AtomicInteger();
        state = new State(list, list.toArray(new InetSocketAddress[0]), members, stickySeconds, affinity, cursor);
    }

    /** The endpoint for a new connection from this client, or null when there is none. */
    InetSocketAddress choose(InetAddress client) {
        State s = state;
        if (s.endpoints.length == 0) {
            return null;
        }
        if (s.affinity == null) {
            return roundRobin(s);
        }
        InetSocketAddress pinned = s.affinity.getIfPresent(client);
        if (pinned != null && s.members.contains(pinned)) {
            return pinned;
        }
        InetSocketAddress chosen = roundRobin(s);
        s.affinity.put(client, chosen);
        return chosen;
    }

    /** After a failed connect: the next endpoint in round-robin order, bypassing (and re-pinning) affinity. */
    InetSocketAddress next(InetAddress client) {
        State s = state;
        if (s.endpoints.length == 0) {
            return null;
        }
        InetSocketAddress chosen = roundRobin(s);
        if (s.affinity != null) {
            s.affinity.put(client, chosen);
        }
        return chosen;
    }

    private static InetSocketAddress roundRobin(State s) {
        // floorMod: the cursor wraps to negative after 2^31 choices.
        return s.endpoints[Math.floorMod(s.cursor.getAndIncrement(), s.endpoints.length)];
    }
}
