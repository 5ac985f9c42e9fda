package dev.ferry.proxy.e2e;

import dev.ferry.proxy.metrics.Scrape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * proxy.jar in iptables mode on the real kernel, with its health and metrics servers on their
 * default addresses inside the node namespace (asked with curl from there): /metrics after real
 * syncs has upstream's names, types and labels, and its rule counts match iptables-save; an
 * EndpointSlice's trigger time becomes a network programming latency; /proxyMode says iptables;
 * /healthz turns 503 while real iptables-restore runs keep failing (a foreign nft rule pins one of
 * our chains, as in {@link RestoreFailureIT}), the failures are counted, and it is 200 again once
 * the rule is gone; a Node being deleted fails /healthz but not /livez; userspace mode counts
 * connections and bytes per service port.
 */
class MetricsIT {
    static final String WEB_IP = NodeFixture.WEB_IP;
    static final String HEALTHZ = "http://127.0.0.1:10256";
    static final String METRICS = "http://127.0.0.1:10249";
    static final String V4 = "{ip_family=\"IPv4\"}";

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(2);

    /** An HTTP answer fetched with curl inside the node namespace; code 0 when nothing answered. */
    record Answer(int code, String body) {
    }

    private Answer get(String url) {
        Proc.Result r = fx.node().run(Duration.ofSeconds(15),
                List.of("curl", "-s", "--max-time", "5", "-o", "-", "-w", "\n%{http_code}", url));
        String out = r.out();
        int cut = out.lastIndexOf('\n');
        String code = out.substring(cut + 1).strip();
        return new Answer(code.matches("\\d{3}") ? Integer.parseInt(code) : 0, cut < 0 ? "" : out.substring(0, cut));
    }

    private Scrape scrape() {
        Answer a = get(METRICS + "/metrics");
        assertEquals(200, a.code(), () -> "GET /metrics: " + a);
        return new Scrape(a.body());
    }

    /** Rules in our own nat chains as the kernel holds them (iptables_total's definition). */
    private int ownNatRules() {
        return (int) Rules.lines(fx.node().iptablesSave()).stream().filter(l -> l.startsWith("nat: -A KUBE-")).count();
    }

    private void awaitServing() {
        Wait.until("the health and metrics servers answering", Checks.PROGRAMMED,
                () -> get(HEALTHZ + "/healthz").code() == 200 && get(METRICS + "/metrics").code() == 200,
                () -> "healthz: " + get(HEALTHZ + "/healthz") + "\nproxy log:\n" + String.join("\n", fx.proxy().errLines()));
    }

    @Test
    void metricsAfterRealSyncsMatchTheKernel() {
        fx.web("b1", "b2");
        fx.startProxy();
        fx.checks().awaitServed(WEB_IP, 80);
        awaitServing();

        Scrape s = Wait.until("the rule counts of the last sync", Checks.PROGRAMMED, this::scrape,
                x -> x.has("kubeproxy_sync_proxy_rules_iptables_total{ip_family=\"IPv4\",table=\"nat\"}")
                        && x.value("kubeproxy_sync_proxy_rules_iptables_total{ip_family=\"IPv4\",table=\"nat\"}") == ownNatRules(),
                x -> x.text + "\nkernel: " + ownNatRules() + " rules in KUBE-* nat chains");
        // a labelled family shows once it has a series, as with upstream's Go client
        for (String h : List.of("kubeproxy_sync_proxy_rules_duration_seconds", "kubeproxy_sync_full_proxy_rules_duration_seconds",
                "kubeproxy_conntrack_reconciler_sync_duration_seconds")) {
            assertEquals("histogram", s.types.get(h), h);
        }
        for (String g : List.of("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "kubeproxy_sync_proxy_rules_iptables_total",
                "kubeproxy_sync_proxy_rules_iptables_last", "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
                "kubeproxy_sync_proxy_rules_service_changes_pending", "kubeproxy_sync_proxy_rules_no_local_endpoints_total")) {
            assertEquals("gauge", s.types.get(g), g);
        }
        for (String c : List.of("kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                "kubeproxy_sync_proxy_rules_endpoint_changes_total", "kubeproxy_sync_proxy_rules_service_changes_total",
                "kubeproxy_conntrack_reconciler_deleted_entries_total", "kubeproxy_proxy_healthz_total")) {
            assertEquals("counter", s.types.get(c), c);
        }
        assertTrue(s.value("kubeproxy_sync_full_proxy_rules_duration_seconds_count" + V4) >= 1, s.text);
        assertTrue(s.value("kubeproxy_sync_proxy_rules_duration_seconds_count" + V4)
                >= s.value("kubeproxy_sync_full_proxy_rules_duration_seconds_count" + V4));
        double lastSync = s.value("kubeproxy_sync_proxy_rules_last_timestamp_seconds" + V4);
        assertTrue(Math.abs(lastSync - Instant.now().getEpochSecond()) < 120, "last sync " + lastSync + " is now-ish");
        assertTrue(s.value("kubeproxy_sync_proxy_rules_service_changes_total") >= 1);
        assertTrue(s.value("kubeproxy_sync_proxy_rules_endpoint_changes_total") >= 1);
        assertEquals(0, s.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total" + V4));
        assertEquals(0, s.value("kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family=\"IPv4\",traffic_policy=\"internal\"}"));
        assertTrue(s.value("kubeproxy_proxy_healthz_total{code=\"200\"}") >= 1);
        Answer mode = get(METRICS + "/proxyMode");
        assertEquals(new Answer(200, "iptables"), mode);

        // an endpoint change stamped by "the EndpointSlice controller" is measured once it is programmed
        String trigger = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1).toString();
        fx.publish("web-slice", Manifests.slice("web", "web-1", Manifests.ALL_PORTS, Manifests.ips("b1"))
                .replace("metadata:\n", "metadata:\n  annotations:\n    endpoints.kubernetes.io/last-change-trigger-time: \""
                        + trigger + "\"\n"));
        fx.checks().awaitDnatTargets(Set.of(Checks.ipPort("b1", Topology.NAME_TCP_PORT)),
                Set.of(Checks.ipPort("b2", Topology.NAME_TCP_PORT)));
        Scrape after = Wait.until("a network programming latency", Checks.PROGRAMMED, this::scrape,
                x -> x.has("kubeproxy_network_programming_duration_seconds_count" + V4)
                        && x.value("kubeproxy_network_programming_duration_seconds_count" + V4) >= 1, x -> x.text);
        assertEquals("histogram", after.types.get("kubeproxy_network_programming_duration_seconds"));
        assertEquals("histogram", after.types.get("kubeproxy_sync_partial_proxy_rules_duration_seconds"));
        double latency = after.value("kubeproxy_network_programming_duration_seconds_sum" + V4);
        assertTrue(latency >= 0 && latency < 60, "latency " + latency);
        assertTrue(after.value("kubeproxy_sync_partial_proxy_rules_duration_seconds_count" + V4) >= 1, "the change was partial");
        assertEquals(ownNatRules(), (int) after.value("kubeproxy_sync_proxy_rules_iptables_total{ip_family=\"IPv4\",table=\"nat\"}"));
    }

    @Test
    void healthzFailsWhileRestoresFailAndRecovers() {
        fx.web("b1", "b2");
        // health times out at twice the sync period: 4 s here
        fx.startProxy("--iptables-sync-period", "2s");
        Checks checks = fx.checks();
        String b1 = Checks.ipPort("b1", Topology.NAME_TCP_PORT);
        String b2 = Checks.ipPort("b2", Topology.NAME_TCP_PORT);
        checks.awaitDnatTargets(Set.of(b1, b2), Set.of());
        awaitServing();
        String sepB2 = Rules.sepChainFor(checks.save(), b2).orElseThrow();

        NetNs node = fx.node();
        node.check("iptables", "-t", "nat", "-N", "ADMIN-HOLD");
        node.check("nft", "add", "rule", "ip", "nat", "ADMIN-HOLD", "ip", "daddr", "vmap", "{ 192.0.2.1 : jump " + sepB2 + " }");
        fx.web("b1");
        Answer unhealthy = Wait.until("/healthz 503 while every restore fails", Checks.PROGRAMMED,
                () -> get(HEALTHZ + "/healthz"), a -> a.code() == 503, Answer::toString);
        assertTrue(unhealthy.body().contains("\"healthy\":false") && unhealthy.body().contains("\"nodeEligible\":true"),
                unhealthy.body());
        assertEquals(503, get(HEALTHZ + "/livez").code());
        Scrape failing = scrape();
        assertTrue(failing.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total" + V4) >= 2, failing.text);
        assertTrue(failing.value("kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total" + V4) >= 1,
                "the first failed restore was a partial one");

        node.check("nft", "flush", "chain", "ip", "nat", "ADMIN-HOLD");
        checks.awaitDnatTargets(Set.of(b1), Set.of(b2));
        Wait.until("/healthz 200 after a successful sync", Checks.PROGRAMMED, () -> get(HEALTHZ + "/healthz"),
                a -> a.code() == 200, Answer::toString);
        assertEquals(200, get(HEALTHZ + "/livez").code());
        Scrape healed = scrape();
        assertTrue(healed.value("kubeproxy_proxy_healthz_total{code=\"503\"}") >= 1);
        assertTrue(healed.value("kubeproxy_proxy_livez_total{code=\"503\"}") >= 1);
    }

    @Test
    void userspaceModeCountsConnectionsPerServicePort() {
        fx.web("b1", "b2");
        fx.startProxy("--proxy-mode=userspace");
        Wait.until("an answer from " + WEB_IP + ":80 via the pod", Checks.PROGRAMMED,
                () -> Clients.tcp(fx.pod(), WEB_IP, 80).out().strip().matches("b\\d"), fx.checks()::state);
        awaitServing();
        for (int i = 0; i < 4; i++) {
            assertTrue(Clients.tcp(fx.pod(), WEB_IP, 80).out().strip().matches("b\\d"));
        }
        String http = "{protocol=\"TCP\",service_port=\"default/web:http\"}";
        Scrape s = Wait.until("the connections counted", Checks.PROGRAMMED, this::scrape,
                x -> x.has("ferry_userspace_connections_total" + http)
                        && x.value("ferry_userspace_connections_total" + http) >= 5
                        && x.value("ferry_userspace_active_connections" + http) == 0, x -> x.text);
        assertEquals("counter", s.types.get("ferry_userspace_connections_total"));
        assertTrue(s.value("ferry_userspace_bytes_total{direction=\"out\",protocol=\"TCP\",service_port=\"default/web:http\"}") >= 5 * 3,
                "each answer is a name and a newline: " + s.text);
        assertEquals(0, s.value("ferry_userspace_connections_total{protocol=\"UDP\",service_port=\"default/web:dns\"}"));
        assertTrue(s.value("kubeproxy_sync_proxy_rules_duration_seconds_count" + V4) >= 1);
        assertTrue(!s.types.containsKey("kubeproxy_sync_proxy_rules_iptables_total")
                && !s.types.containsKey("kubeproxy_sync_full_proxy_rules_duration_seconds"), "iptables mode's metrics only there");
        assertEquals(new Answer(200, "userspace"), get(METRICS + "/proxyMode"));
    }

    @Test
    void aNodeBeingDeletedFailsHealthzButNotLivez() {
        fx.web("b1");
        fx.startProxy();
        fx.checks().awaitServed(WEB_IP, 80);
        awaitServing();
        fx.manifests().write("node.yaml", Manifests.node(ProxyProcess.NODE_NAME)
                .replace("metadata:\n", "metadata:\n  deletionTimestamp: \"2026-11-23T10:00:00Z\"\n"));
        Answer healthz = Wait.until("/healthz 503 for a Node being deleted", Checks.PROGRAMMED,
                () -> get(HEALTHZ + "/healthz"), a -> a.code() == 503, Answer::toString);
        assertTrue(healthz.body().contains("\"nodeEligible\":false,\"healthy\":true"), healthz.body());
        assertEquals(200, get(HEALTHZ + "/livez").code());
    }
}
