package dev.ferry.iptables;

import dev.ferry.core.IpFamily;
import dev.ferry.core.SyncResult;
import dev.ferry.mode.LegacyGauges;
import dev.ferry.mode.ModeMetrics;
import dev.ferry.mode.SyncMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * iptables mode's own metrics, as upstream names them: full and partial sync durations, the rules
 * we own and wrote per table (from each result's counts, "filter" and "nat"), and the restore
 * failures, all and partial ones.
 *
 * <p>Threads: registered once; {@link #synced} on the sync thread; Prometheus' metrics are thread-safe.
 */
public final class IptablesMetrics implements ModeMetrics {

    private Histogram fullSyncDuration;
    private Histogram partialSyncDuration;
    private LegacyGauges.Family rulesTotal;
    private Gauge rulesLast;
    private Counter restoreFailures;
    private Counter partialRestoreFailures;

    @Override
    public void register(PrometheusRegistry registry, LegacyGauges legacy) {
        fullSyncDuration = SyncMetrics.syncHistogram(registry, "kubeproxy_sync_full_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for full resyncs");
        partialSyncDuration = SyncMetrics.syncHistogram(registry, "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for partial resyncs");
        rulesLast = Gauge.builder().name("kubeproxy_sync_proxy_rules_iptables_last")
                .help("Number of iptables rules written by kube-proxy in last sync").labelNames("ip_family", "table")
                .register(registry);
        restoreFailures = SyncMetrics.restoreFailures(registry);
        partialRestoreFailures = Counter.builder().name("kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total")
                .help("Cumulative proxy iptables partial restore failures").labelNames("ip_family").register(registry);
        // a gauge whose name ends in _total: Prometheus' Java client refuses it, upstream has it
        rulesTotal = legacy.family("kubeproxy_sync_proxy_rules_iptables_total",
                "Total number of iptables rules owned by kube-proxy", "ip_family", "table");
    }

    @Override
    public void proxier(IpFamily family) {
        restoreFailures.labelValues(family.label());
        partialRestoreFailures.labelValues(family.label());
    }

    @Override
    public void synced(IpFamily family, SyncResult result) {
        String f = family.label();
        (result.full() ? fullSyncDuration : partialSyncDuration).labelValues(f).observe(result.duration().toNanos() / 1e9);
        if (!result.ok()) {
            if (result.applyFailed()) {
                restoreFailures.labelValues(f).inc();
                if (!result.full()) {
                    partialRestoreFailures.labelValues(f).inc();
                }
            }
            return;
        }
        result.owned().forEach((table, n) -> rulesTotal.set(n, f, table));
        result.written().forEach((table, n) -> rulesLast.labelValues(f, table).set(n));
    }
}
