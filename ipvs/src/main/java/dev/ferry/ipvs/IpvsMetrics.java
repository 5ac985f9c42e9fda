package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.SyncResult;
import dev.ferry.mode.LegacyGauges;
import dev.ferry.mode.ModeMetrics;
import dev.ferry.mode.SyncMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** ipvs mode's own metric, as upstream's: its ipset and iptables restores that failed. */
public final class IpvsMetrics implements ModeMetrics {

    private Counter restoreFailures;

    @Override
    public void register(PrometheusRegistry registry, LegacyGauges legacy) {
        restoreFailures = SyncMetrics.restoreFailures(registry); // ipvs mode still runs iptables-restore
    }

    @Override
    public void proxier(IpFamily family) {
        restoreFailures.labelValues(family.label());
    }

    @Override
    public void synced(IpFamily family, SyncResult result) {
        if (!result.ok() && result.applyFailed()) {
            restoreFailures.labelValues(family.label()).inc();
        }
    }
}
