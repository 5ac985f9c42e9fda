package dev.ferry.proxy.health;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Whether the proxy keeps up with its input, as upstream's proxier health decides it: each
 * proxier (one backend, i.e. one IP family) reports "queued" when a change arrives and
 * "updated" after a successful sync. The proxy is unhealthy while some proxier has had a change
 * waiting for longer than the timeout (upstream: twice the sync period). A proxier that has never
 * reported "updated" is not judged (it is starting up), so the daemon reports "updated" once when
 * its sync loop starts, as upstream does, so that a loop whose syncs never succeed turns unhealthy.
 *
 * <p>Threads: any thread may call any method (the source's threads queue, the sync thread
 * updates, HTTP threads read); state is guarded by this object's monitor.
 */
public final class ProxyHealth {

    /**
     * A reading: healthy or not; the last successful sync (of the late proxier when unhealthy, else
     * the latest of any; null before the first), and the time of the reading.
     */
    public record Status(boolean healthy, Instant lastUpdated, Instant now) {
    }

    /** One proxier's part of a {@link Report}. */
    public record Proxier(boolean healthy, Instant lastUpdated) {
    }

    /**
     * A full reading, as upstream's /healthz and /livez body reports it: overall health, the latest
     * successful sync of any proxier (null before the first), the time of the reading, and each
     * proxier that has synced at least once, by name, sorted.
     */
    public record Report(boolean healthy, Instant lastUpdated, Instant now, SortedMap<String, Proxier> proxiers) {
    }

    private final Duration timeout;
    private final Clock clock;
    private final Map<String, Instant> lastUpdated = new HashMap<>();
    private final Map<String, Instant> oldestQueued = new HashMap<>();

    /** @param timeout how long a queued change may wait before the proxy counts as unhealthy */
    public ProxyHealth(Duration timeout, Clock clock) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("health timeout must be positive: " + timeout);
        }
        this.timeout = timeout;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Upstream's setting: unhealthy once a change has waited twice the sync period. */
    public static ProxyHealth forSyncPeriod(Duration syncPeriod) {
        return new ProxyHealth(syncPeriod.multipliedBy(2), Clock.systemUTC());
    }

    /** A change for {@code proxier} arrived; only the oldest pending one counts. */
    public synchronized void queued(String proxier) {
        oldestQueued.putIfAbsent(Objects.requireNonNull(proxier, "proxier"), clock.instant());
    }

    /** {@code proxier} synced successfully: everything queued so far is applied. */
    public synchronized void updated(String proxier) {
        Objects.requireNonNull(proxier, "proxier");
        oldestQueued.remove(proxier);
        lastUpdated.put(proxier, clock.instant());
    }

    public boolean healthy() {
        return status().healthy();
    }

    public synchronized Report report() {
        Instant now = clock.instant();
        Instant latest = null;
        boolean healthy = true;
        SortedMap<String, Proxier> proxiers = new TreeMap<>();
        for (Map.Entry<String, Instant> e : lastUpdated.entrySet()) {
            if (latest == null || e.getValue().isAfter(latest)) {
                latest = e.getValue();
            }
            boolean late = late(e.getKey(), now);
            healthy &= !late;
            proxiers.put(e.getKey(), new Proxier(!late, e.getValue()));
        }
        return new Report(healthy, latest, now, Collections.unmodifiableSortedMap(proxiers));
    }

    /** A change has waited for {@code proxier} at least the timeout. */
    private boolean late(String proxier, Instant now) {
        Instant queued = oldestQueued.get(proxier);
        return queued != null && Duration.between(queued, now).compareTo(timeout) >= 0;
    }

    public synchronized Status status() {
        Instant now = clock.instant();
        Instant latest = null;
        for (Map.Entry<String, Instant> e : lastUpdated.entrySet()) {
            if (latest == null || e.getValue().isAfter(latest)) {
                latest = e.getValue();
            }
            Instant queued = oldestQueued.get(e.getKey());
            if (queued != null && Duration.between(queued, now).compareTo(timeout) >= 0) {
                return new Status(false, e.getValue(), now);
            }
        }
        return new Status(true, latest, now);
    }
}
