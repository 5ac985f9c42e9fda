package dev.ferry.proxy.metrics;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortState;
import dev.ferry.core.SyncResult;
import dev.ferry.mode.LegacyGauges;
import dev.ferry.mode.ModeMetrics;
import dev.ferry.mode.SyncMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The proxy's metrics, named, typed and labelled as upstream kube-proxy's (pkg/proxy/metrics, all
 * ALPHA): sync durations, last sync and last queued times, pending and total changes, network
 * programming latency, services without local endpoints, health probe answers and the conntrack
 * reconciler; plus the running mode's own ({@link ModeMetrics}: iptables mode's rule counts and
 * restore failures, ipvs mode's restore failures, userspace mode's {@code ferry_*} counters), which
 * exist only in that mode, as upstream's; the process's {@code process_*} and {@code jvm_*} series
 * ({@link RuntimeMetrics}) and the API client's {@code rest_client_*} ({@link ApiRequestMetrics}).
 *
 * <p>Threads: the daemon's sync thread reports syncs, source threads report queued changes, HTTP
 * threads report probe answers and scrape; every metric is thread-safe (Prometheus' client), and
 * values read at scrape time (pending changes, userspace counters) are read from thread-safe
 * sources. Nothing here throws into its caller except a failed write to a scraping client.
 */
public final class ProxyMetrics {

    /**
     * Upstream's network programming buckets: 0 (its merge helper starts with a 0 bucket), 0.25 s,
     * 0.5 s, 1..59 s by 1 s, 60..115 s by 5 s, 120..300 s by 30 s.
     */
    static final double[] PROGRAMMING_BUCKETS = programmingBuckets();

    private final String mode;
    private final ModeMetrics modeMetrics;
    private final Clock clock;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final LegacyGauges legacyGauges = new LegacyGauges();

    private final Histogram syncDuration;
    private final Histogram programmingDuration;
    private final Gauge lastSync;
    private final Gauge lastQueued;
    private final Counter healthz;
    private final Counter livez;
    private final Histogram conntrackDuration;
    private final Counter conntrackDeleted;
    private final LegacyGauges.Family noLocalEndpoints;

    /**
     * @param mode        the --proxy-mode value, served at /proxyMode
     * @param modeMetrics the running mode's own metrics, registered here
     */
    public ProxyMetrics(String mode, ModeMetrics modeMetrics, Clock clock) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.modeMetrics = Objects.requireNonNull(modeMetrics, "modeMetrics");
        this.clock = Objects.requireNonNull(clock, "clock");
        syncDuration = SyncMetrics.syncHistogram(registry, "kubeproxy_sync_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds");
        programmingDuration = SyncMetrics.histogram(registry, "kubeproxy_network_programming_duration_seconds",
                "In Cluster Network Programming Latency in seconds", PROGRAMMING_BUCKETS);
        lastSync = Gauge.builder().name("kubeproxy_sync_proxy_rules_last_timestamp_seconds")
                .help("The last time proxy rules were successfully synced").labelNames("ip_family").register(registry);
        lastQueued = Gauge.builder().name("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds")
                .help("The last time a sync of proxy rules was queued").labelNames("ip_family").register(registry);
        healthz = Counter.builder().name("kubeproxy_proxy_healthz_total").help("Cumulative proxy healthz HTTP status")
                .labelNames("code").register(registry);
        livez = Counter.builder().name("kubeproxy_proxy_livez_total").help("Cumulative proxy livez HTTP status")
                .labelNames("code").register(registry);
        conntrackDuration = SyncMetrics.syncHistogram(registry, "kubeproxy_conntrack_reconciler_sync_duration_seconds",
                "ReconcileConntrackFlowsLatency latency in seconds");
        conntrackDeleted = Counter.builder().name("kubeproxy_conntrack_reconciler_deleted_entries_total")
                .help("Cumulative conntrack flows deleted by conntrack reconciler").labelNames("ip_family")
                .register(registry);
        modeMetrics.register(registry, legacyGauges);
        RuntimeMetrics.register(registry);
        ApiRequestMetrics.shared().register(registry);
        // A gauge whose name ends in _total: Prometheus' Java client refuses such names, upstream has it.
        noLocalEndpoints = legacyGauges.family("kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                "Number of services with a Local traffic policy and no endpoints", "ip_family", "traffic_policy");
    }

    /** The --proxy-mode value, served at /proxyMode. */
    public String mode() {
        return mode;
    }

    /**
     * Starts the series of a family's proxier at zero (as upstream's counters show 0 before the
     * first event): the mode's counters, and conntrack deletions.
     */
    public void proxier(IpFamily family) {
        modeMetrics.proxier(family);
        conntrackDeleted.labelValues(family.label());
    }

    /** Pending and total Service and EndpointSlice changes, read from {@code tracker} at each scrape. */
    public void watch(ChangeTracker tracker) {
        Objects.requireNonNull(tracker, "tracker");
        GaugeWithCallback.builder().name("kubeproxy_sync_proxy_rules_endpoint_changes_pending")
                .help("Pending proxy rules Endpoint changes").callback(cb -> cb.call(tracker.pendingEndpointChanges()))
                .register(registry);
        CounterWithCallback.builder().name("kubeproxy_sync_proxy_rules_endpoint_changes_total")
                .help("Cumulative proxy rules Endpoint changes").callback(cb -> cb.call(tracker.endpointChangesTotal()))
                .register(registry);
        GaugeWithCallback.builder().name("kubeproxy_sync_proxy_rules_service_changes_pending")
                .help("Pending proxy rules Service changes").callback(cb -> cb.call(tracker.pendingServiceChanges()))
                .register(registry);
        CounterWithCallback.builder().name("kubeproxy_sync_proxy_rules_service_changes_total")
                .help("Cumulative proxy rules Service changes").callback(cb -> cb.call(tracker.serviceChangesTotal()))
                .register(registry);
    }

    /** A change arrived that a sync of {@code family} must apply. Any thread. */
    public void queued(IpFamily family) {
        lastQueued.labelValues(label(family)).set(seconds(clock.instant()));
    }

    /**
     * One backend's sync is over. Durations are observed whatever the outcome (as upstream, whose
     * sync records them on the way out); the rest only after a success, except the failure
     * counters. Sync thread.
     *
     * <p>The network programming latency is measured from the trigger times the snapshot carries
     * for this family.
     */
    public void synced(IpFamily family, SyncResult result, ProxySnapshot snapshot) {
        synced(family, result, snapshot, snapshot.triggerTimes(family));
    }

    /** {@link #synced(IpFamily, SyncResult, ProxySnapshot)} with the trigger times given. */
    void synced(IpFamily family, SyncResult result, ProxySnapshot snapshot, List<Instant> triggerTimes) {
        String f = label(family);
        syncDuration.labelValues(f).observe(result.duration().toNanos() / 1e9);
        modeMetrics.synced(family, result);
        if (!result.ok()) {
            return;
        }
        Instant now = clock.instant();
        lastSync.labelValues(f).set(seconds(now));
        for (Instant t : triggerTimes) {
            programmingDuration.labelValues(f).observe(Math.max(0, Duration.between(t, now).toNanos() / 1e9));
        }
        int[] noLocal = noLocalEndpoints(family, snapshot);
        noLocalEndpoints.set(noLocal[0], f, "internal");
        noLocalEndpoints.set(noLocal[1], f, "external");
    }

    /**
     * Service ports of this family with a Local traffic policy and no local endpoint: [internal,
     * external], as upstream counts them for kubeproxy_sync_proxy_rules_no_local_endpoints_total.
     */
    static int[] noLocalEndpoints(IpFamily family, ProxySnapshot snapshot) {
        int[] out = new int[2];
        for (ServicePortState s : snapshot.servicePorts()) {
            if (s.port().clusterIP(family).isEmpty() || !s.selection(family).localEndpoints().isEmpty()) {
                continue;
            }
            if (s.port().internalPolicyLocal()) {
                out[0]++;
            }
            if (s.port().externalPolicyLocal() && s.port().externallyAccessible()) {
                out[1]++;
            }
        }
        return out;
    }

    /** One run of the conntrack reconciler for {@code family}. Sync thread. */
    public void conntrackReconciled(IpFamily family, Duration took, long deleted) {
        String f = label(family);
        conntrackDuration.labelValues(f).observe(took.toNanos() / 1e9);
        conntrackDeleted.labelValues(f).inc(deleted);
    }

    /** /healthz answered with {@code code}. */
    public void healthz(int code) {
        healthz.labelValues(Integer.toString(code)).inc();
    }

    /** /livez answered with {@code code}. */
    public void livez(int code) {
        livez.labelValues(Integer.toString(code)).inc();
    }

    /** Every metric in Prometheus' text format (version 0.0.4). */
    public void write(OutputStream out) throws IOException {
        new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        legacyGauges.write(out);
    }

    /** The text format's content type. */
    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    /** Upstream's v1.IPFamily values. */
    static String label(IpFamily family) {
        return family.label();
    }

    private static double seconds(Instant t) {
        return t.getEpochSecond() + t.getNano() / 1e9;
    }

    private static double[] programmingBuckets() {
        double[] out = new double[1 + 2 + 59 + 12 + 7];
        int i = 1; // out[0] = 0
        for (int k = 1; k <= 2; k++) {
            out[i++] = 0.25 * k;
        }
        for (int k = 1; k <= 59; k++) {
            out[i++] = k;
        }
        for (int k = 0; k < 12; k++) {
            out[i++] = 60 + 5 * k;
        }
        for (int k = 0; k < 7; k++) {
            out[i++] = 120 + 30 * k;
        }
        return out;
    }
}
