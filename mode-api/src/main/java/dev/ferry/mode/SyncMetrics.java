package dev.ferry.mode;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** Upstream's sync metric shapes (pkg/proxy/metrics), for the daemon's metrics and the modes' own. */
public final class SyncMetrics {

    /** Upstream's ExponentialBuckets(0.001, 2, 15): 1 ms .. 16.384 s. */
    public static final double[] SYNC_BUCKETS = exponential(0.001, 2, 15);

    /** Upstream's name of the restore failure counter of iptables and ipvs mode. */
    public static final String RESTORE_FAILURES = "kubeproxy_sync_proxy_rules_iptables_restore_failures_total";

    private SyncMetrics() {
    }

    /** A sync-duration histogram labelled by ip_family, with {@link #SYNC_BUCKETS}. */
    public static Histogram syncHistogram(PrometheusRegistry registry, String name, String help) {
        return histogram(registry, name, help, SYNC_BUCKETS);
    }

    /** A histogram labelled by ip_family with upstream's bucket bounds, classic only (as upstream's). */
    public static Histogram histogram(PrometheusRegistry registry, String name, String help, double[] buckets) {
        return Histogram.builder().name(name).help(help).labelNames("ip_family").classicUpperBounds(buckets)
                .classicOnly().register(registry);
    }

    /** kubeproxy_sync_proxy_rules_iptables_restore_failures_total, labelled by ip_family. */
    public static Counter restoreFailures(PrometheusRegistry registry) {
        return Counter.builder().name(RESTORE_FAILURES).help("Cumulative proxy iptables restore failures")
                .labelNames("ip_family").register(registry);
    }

    private static double[] exponential(double start, double factor, int count) {
        double[] out = new double[count];
        double next = start;
        for (int i = 0; i < count; i++) {
            out[i] = next;
            next *= factor; // multiplied step by step, as upstream's helper does, for the same doubles
        }
        return out;
    }
}
