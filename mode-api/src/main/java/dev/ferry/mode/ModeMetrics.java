package dev.ferry.mode;

import dev.ferry.core.IpFamily;
import dev.ferry.core.SyncResult;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The metrics only one mode has (upstream: the iptables rule counts, the restore failures of
 * iptables and ipvs mode; ours: userspace mode's per-service-port counters). The metrics every
 * mode has (sync durations, timestamps, programming latency, ...) are the daemon's.
 *
 * <p>Threads: {@link #register} once before the first sync; {@link #synced} on the sync thread;
 * values read at scrape time must be thread-safe. Nothing here throws into a sync.
 */
public interface ModeMetrics {

    /** A mode without metrics of its own. */
    ModeMetrics NONE = new ModeMetrics() {
    };

    /**
     * Registers the mode's metrics.
     *
     * @param legacy for gauges whose upstream names end in _total, which Prometheus' client refuses
     */
    default void register(PrometheusRegistry registry, LegacyGauges legacy) {
    }

    /** Starts the series of a family's backend at zero, as upstream's counters show 0 before the first event. */
    default void proxier(IpFamily family) {
    }

    /** One backend's sync is over, whatever its outcome. */
    default void synced(IpFamily family, SyncResult result) {
    }
}
