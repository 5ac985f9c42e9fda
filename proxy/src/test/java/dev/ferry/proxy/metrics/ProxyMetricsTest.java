package dev.ferry.proxy.metrics;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Fixtures;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Problems;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.IptablesMetrics;
import dev.ferry.ipvs.IpvsMetrics;
import dev.ferry.userspace.UserspaceMetrics;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sync results and events in, upstream's metric names, types, labels, buckets and values out. */
class ProxyMetricsTest {

    static final Instant NOW = Instant.parse("2026-11-23T10:00:00.5Z");
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

    static Scrape scrape(ProxyMetrics metrics) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        return new Scrape(out.toString(StandardCharsets.UTF_8));
    }

    static Service internalLocal(String name, String ip) {
        return new ServiceBuilder(Fixtures.clusterIPService("ns", name, ip, "http", 80, "TCP"))
                .editSpec().withInternalTrafficPolicy("Local").endSpec().build();
    }

    static Service externalLocalNodePort(String name, String ip, int nodePort) {
        return new ServiceBuilder(Fixtures.clusterIPService("ns", name, ip, "http", 80, "TCP"))
                .editSpec().withType("NodePort").withExternalTrafficPolicy("Local")
                .editFirstPort().withNodePort(nodePort).endPort().endSpec().build();
    }

    private static ProxySnapshot snapshot(Service... services) {
        ChangeTracker t = new ChangeTracker("node-a", Problems.IGNORE, () -> { });
        for (Service s : services) {
            t.updateService(null, s);
        }
        return t.snapshot();
    }

    @Test
    void syncResultsBecomeUpstreamsMetrics() throws IOException {
        ProxyMetrics m = new ProxyMetrics("iptables", new IptablesMetrics(), clock);
        m.proxier(IpFamily.IPV4);
        ProxySnapshot snap = snapshot(internalLocal("a", "10.96.0.1"), externalLocalNodePort("b", "10.96.0.2", 30080),
                Fixtures.clusterIPService("ns", "c", "10.96.0.3", "http", 80, "TCP"));
        m.synced(IpFamily.IPV4, SyncResult.success(true, 40, Duration.ofMillis(3))
                .withCounts(Map.of("nat", 30, "filter", 10), Map.of("nat", 30, "filter", 10)), snap,
                List.of(NOW.minusMillis(1500), NOW.minusSeconds(70)));
        m.synced(IpFamily.IPV4, SyncResult.success(false, 5, Duration.ofMillis(20))
                .withCounts(Map.of("nat", 33, "filter", 10), Map.of("nat", 4, "filter", 1)), snap, List.of());
        m.synced(IpFamily.IPV4, SyncResult.applyFailure(false, Duration.ofMillis(2), "iptables-restore exited 1"), snap,
                List.of());
        m.synced(IpFamily.IPV4, SyncResult.failure(true, Duration.ofMillis(1), "iptables-save failed"), snap, List.of());
        m.queued(IpFamily.IPV4);
        m.conntrackReconciled(IpFamily.IPV4, Duration.ofMillis(7), 3);
        m.healthz(200);
        m.healthz(200);
        m.healthz(503);
        m.livez(200);

        Scrape s = scrape(m);
        for (String h : List.of("kubeproxy_sync_proxy_rules_duration_seconds", "kubeproxy_sync_full_proxy_rules_duration_seconds",
                "kubeproxy_sync_partial_proxy_rules_duration_seconds", "kubeproxy_network_programming_duration_seconds",
                "kubeproxy_conntrack_reconciler_sync_duration_seconds")) {
            assertEquals("histogram", s.types.get(h), h);
        }
        for (String g : List.of("kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", "kubeproxy_sync_proxy_rules_iptables_total",
                "kubeproxy_sync_proxy_rules_iptables_last", "kubeproxy_sync_proxy_rules_no_local_endpoints_total")) {
            assertEquals("gauge", s.types.get(g), g);
        }
        for (String c : List.of("kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total", "kubeproxy_proxy_healthz_total",
                "kubeproxy_proxy_livez_total", "kubeproxy_conntrack_reconciler_deleted_entries_total")) {
            assertEquals("counter", s.types.get(c), c);
        }

        String v4 = "{ip_family=\"IPv4\"}";
        assertEquals(4, s.value("kubeproxy_sync_proxy_rules_duration_seconds_count" + v4), "every sync, failed ones too");
        assertEquals(2, s.value("kubeproxy_sync_full_proxy_rules_duration_seconds_count" + v4));
        assertEquals(2, s.value("kubeproxy_sync_partial_proxy_rules_duration_seconds_count" + v4));
        assertEquals(0.026, s.value("kubeproxy_sync_proxy_rules_duration_seconds_sum" + v4), 1e-9);
        assertEquals(1, s.value("kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.002\"}"));
        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.001\"}"));
        assertEquals(3, s.value("kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.004\"}"));
        assertEquals(4, s.value("kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family=\"IPv4\",le=\"16.384\"}"));
        assertEquals(16, s.seriesOf("kubeproxy_sync_proxy_rules_duration_seconds_bucket").size(), "15 buckets and +Inf");

        assertEquals(NOW.getEpochSecond() + 0.5, s.value("kubeproxy_sync_proxy_rules_last_timestamp_seconds" + v4));
        assertEquals(NOW.getEpochSecond() + 0.5, s.value("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds" + v4));
        assertEquals(33, s.value("kubeproxy_sync_proxy_rules_iptables_total{ip_family=\"IPv4\",table=\"nat\"}"));
        assertEquals(10, s.value("kubeproxy_sync_proxy_rules_iptables_total{ip_family=\"IPv4\",table=\"filter\"}"));
        assertEquals(4, s.value("kubeproxy_sync_proxy_rules_iptables_last{ip_family=\"IPv4\",table=\"nat\"}"));
        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total" + v4), "only the apply failure");
        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total" + v4));

        assertEquals(2, s.value("kubeproxy_network_programming_duration_seconds_count" + v4));
        assertEquals(71.5, s.value("kubeproxy_network_programming_duration_seconds_sum" + v4), 1e-9);
        assertEquals(0, s.value("kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.0\"}"));
        assertEquals(1, s.value("kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"2.0\"}"));
        assertEquals(2, s.value("kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"75.0\"}"));
        assertEquals(1 + 2 + 59 + 12 + 7 + 1, s.seriesOf("kubeproxy_network_programming_duration_seconds_bucket").size());
        assertTrue(s.has("kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"300.0\"}"));

        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family=\"IPv4\",traffic_policy=\"internal\"}"));
        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family=\"IPv4\",traffic_policy=\"external\"}"));

        assertEquals(2, s.value("kubeproxy_proxy_healthz_total{code=\"200\"}"));
        assertEquals(1, s.value("kubeproxy_proxy_healthz_total{code=\"503\"}"));
        assertEquals(1, s.value("kubeproxy_proxy_livez_total{code=\"200\"}"));
        assertEquals(1, s.value("kubeproxy_conntrack_reconciler_sync_duration_seconds_count" + v4));
        assertEquals(3, s.value("kubeproxy_conntrack_reconciler_deleted_entries_total" + v4));
        assertFalse(s.text.contains("_created"), "no created timestamps, as upstream");
    }

    @Test
    void aFailedSyncLeavesTheLastSuccessAlone() throws IOException {
        ProxyMetrics m = new ProxyMetrics("iptables", new IptablesMetrics(), clock);
        m.synced(IpFamily.IPV6, SyncResult.failure(true, Duration.ZERO, "no"), snapshot(), List.of(NOW));
        Scrape s = scrape(m);
        assertFalse(s.has("kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family=\"IPv6\"}"));
        assertFalse(s.has("kubeproxy_network_programming_duration_seconds_count{ip_family=\"IPv6\"}"),
                "measured only once the change is programmed");
        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family=\"IPv6\"}"));
    }

    @Test
    void iptablesOnlyMetricsExistOnlyInIptablesMode() throws IOException {
        ProxyMetrics userspace = new ProxyMetrics("userspace", new UserspaceMetrics(Map::of), clock);
        userspace.proxier(IpFamily.IPV4);
        userspace.synced(IpFamily.IPV4, SyncResult.success(true, 3, Duration.ofMillis(1)), snapshot(), List.of());
        Scrape s = scrape(userspace);
        assertTrue(s.types.containsKey("kubeproxy_sync_proxy_rules_duration_seconds"));
        for (String absent : List.of("kubeproxy_sync_full_proxy_rules_duration_seconds",
                "kubeproxy_sync_proxy_rules_iptables_total", "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total")) {
            assertFalse(s.types.containsKey(absent), absent);
        }
        ProxyMetrics ipvs = new ProxyMetrics("ipvs", new IpvsMetrics(), clock);
        ipvs.proxier(IpFamily.IPV4);
        Scrape i = scrape(ipvs);
        assertEquals(0, i.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family=\"IPv4\"}"),
                "ipvs mode still runs iptables-restore");
        assertFalse(i.types.containsKey("kubeproxy_sync_proxy_rules_iptables_total"));
    }

    @Test
    void changeCountsAreReadFromTheTrackerAtScrapeTime() throws IOException {
        ProxyMetrics m = new ProxyMetrics("iptables", new IptablesMetrics(), clock);
        ChangeTracker t = new ChangeTracker("node-a", Problems.IGNORE, () -> { });
        m.watch(t);
        t.updateService(null, Fixtures.clusterIPService("ns", "a", "10.96.0.1", "http", 80, "TCP"));
        t.updateService(null, Fixtures.clusterIPService("ns", "b", "10.96.0.2", "http", 80, "TCP"));
        t.updateEndpointSlice(null, Fixtures.slice("ns", "a-1", "a", "http", 80, "TCP", Fixtures.Ep.ready("10.0.0.1")));
        Scrape before = scrape(m);
        assertEquals("gauge", before.types.get("kubeproxy_sync_proxy_rules_service_changes_pending"));
        assertEquals("counter", before.types.get("kubeproxy_sync_proxy_rules_service_changes_total"));
        assertEquals("gauge", before.types.get("kubeproxy_sync_proxy_rules_endpoint_changes_pending"));
        assertEquals("counter", before.types.get("kubeproxy_sync_proxy_rules_endpoint_changes_total"));
        assertEquals(2, before.value("kubeproxy_sync_proxy_rules_service_changes_pending"));
        assertEquals(1, before.value("kubeproxy_sync_proxy_rules_endpoint_changes_pending"));
        t.snapshot();
        Scrape after = scrape(m);
        assertEquals(0, after.value("kubeproxy_sync_proxy_rules_service_changes_pending"));
        assertEquals(2, after.value("kubeproxy_sync_proxy_rules_service_changes_total"));
        assertEquals(1, after.value("kubeproxy_sync_proxy_rules_endpoint_changes_total"));
    }
}
