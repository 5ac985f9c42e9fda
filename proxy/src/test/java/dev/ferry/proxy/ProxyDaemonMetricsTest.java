package dev.ferry.proxy;

import dev.ferry.core.Backend;
import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Fixtures;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Poll;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.IptablesMetrics;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.proxy.metrics.Scrape;
import dev.ferry.proxy.source.InputProblems;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon with a fake iptables-like backend and both HTTP servers on loopback (port 0): syncs
 * show up in /metrics scraped over HTTP (names, types, labels, values), /proxyMode names the mode,
 * /healthz and /livez turn 503 while syncs keep failing and 200 again after one succeeds, and a
 * Node being deleted fails /healthz only.
 */
class ProxyDaemonMetricsTest {
    static final Duration SYNC_PERIOD = Duration.ofMillis(300);

    /** Reports table counts as iptables mode does; fails its apply step when told. */
    static final class TableBackend implements Backend {
        final AtomicBoolean failing = new AtomicBoolean();
        final AtomicInteger syncs = new AtomicInteger();

        @Override
        public String mode() {
            return "iptables";
        }

        @Override
        public SyncResult sync(ProxySnapshot snapshot) {
            boolean full = syncs.getAndIncrement() == 0;
            if (failing.get()) {
                return SyncResult.applyFailure(full, Duration.ofMillis(2), "iptables-restore exited 1: told to fail");
            }
            int services = snapshot.servicePortMap().size();
            return SyncResult.success(full, 10 + services, Duration.ofMillis(3)).withCounts(
                    Map.of("nat", 7 + services, "filter", 3), Map.of("nat", full ? 7 + services : 1, "filter", 3));
        }

        @Override
        public SyncResult cleanup() {
            return SyncResult.success(true, 0, Duration.ZERO);
        }
    }

    private final TableBackend backend = new TableBackend();
    private final HttpClient http = HttpClient.newHttpClient();
    private ProxyDaemon daemon;
    private int healthPort;
    private int metricsPort;

    @AfterEach
    void close() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private ChangeTracker start() throws InterruptedException {
        daemon = new ProxyDaemon("node-a", InputProblems.logging(),
                "iptables", new ModeRuntime(List.of(new FamilyBackend("fake IPv4", IpFamily.IPV4, backend)), new IptablesMetrics()),
                t -> new ProxyDaemonHealthTest.IdleSource(), Duration.ofMillis(10), SYNC_PERIOD);
        daemon.serveHttp(BindAddress.parse("127.0.0.1:0"), BindAddress.parse("127.0.0.1:0"));
        List<InetSocketAddress> addresses = daemon.httpAddresses();
        assertEquals(2, addresses.size(), "both servers listen");
        healthPort = addresses.get(0).getPort();
        metricsPort = addresses.get(1).getPort();
        daemon.startSource();
        assertTrue(daemon.startSyncing(() -> false));
        return daemon.tracker();
    }

    private HttpResponse<String> get(int port, String path) {
        URI uri = URI.create("http://127.0.0.1:" + port + path);
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError("GET " + uri + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private Scrape scrape() {
        HttpResponse<String> r = get(metricsPort, "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                r.headers().toString());
        return new Scrape(r.body());
    }

    @Test
    void syncsShowInMetricsScrapedOverHttp() throws Exception {
        ChangeTracker tracker = start();
        Poll.until("a first sync", () -> backend.syncs.get() >= 1);
        tracker.updateService(null, Fixtures.clusterIPService("ns", "a", "10.96.0.1", "http", 80, "TCP"));
        Instant trigger = Instant.now();
        tracker.updateEndpointSlice(null, new EndpointSliceBuilder(
                Fixtures.slice("ns", "a-1", "a", "http", 8080, "TCP", Fixtures.Ep.ready("10.0.0.1")))
                .editMetadata().addToAnnotations("endpoints.kubernetes.io/last-change-trigger-time", trigger.toString())
                .endMetadata().build());
        String v4 = "{ip_family=\"IPv4\"}";
        Poll.until("the change synced and measured", () -> scrape().has("kubeproxy_network_programming_duration_seconds_count" + v4)
                && scrape().value("kubeproxy_sync_proxy_rules_service_changes_pending") == 0);

        Scrape s = scrape();
        assertEquals("histogram", s.types.get("kubeproxy_sync_proxy_rules_duration_seconds"));
        assertEquals("histogram", s.types.get("kubeproxy_sync_full_proxy_rules_duration_seconds"));
        assertEquals("histogram", s.types.get("kubeproxy_network_programming_duration_seconds"));
        assertEquals("gauge", s.types.get("kubeproxy_sync_proxy_rules_iptables_total"));
        assertEquals("counter", s.types.get("kubeproxy_sync_proxy_rules_iptables_restore_failures_total"));
        assertEquals("counter", s.types.get("kubeproxy_sync_proxy_rules_service_changes_total"));
        assertTrue(s.value("kubeproxy_sync_proxy_rules_duration_seconds_count" + v4) >= 2, s.text);
        assertEquals(1, s.value("kubeproxy_sync_full_proxy_rules_duration_seconds_count" + v4), "only the first sync is full");
        assertEquals(8, s.value("kubeproxy_sync_proxy_rules_iptables_total{ip_family=\"IPv4\",table=\"nat\"}"));
        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_iptables_last{ip_family=\"IPv4\",table=\"nat\"}"));
        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_service_changes_total"));
        assertEquals(1, s.value("kubeproxy_sync_proxy_rules_endpoint_changes_total"));
        assertEquals(0, s.value("kubeproxy_sync_proxy_rules_endpoint_changes_pending"));
        assertEquals(1, s.value("kubeproxy_network_programming_duration_seconds_count" + v4));
        double latency = s.value("kubeproxy_network_programming_duration_seconds_sum" + v4);
        assertTrue(latency >= 0 && latency < 10, "programmed within the test's time: " + latency);
        double last = s.value("kubeproxy_sync_proxy_rules_last_timestamp_seconds" + v4);
        double queued = s.value("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds" + v4);
        assertTrue(last >= queued && queued >= trigger.getEpochSecond() - 1, "synced after the last queued change");
        assertEquals(0, s.value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total" + v4));

        HttpResponse<String> mode = get(metricsPort, "/proxyMode");
        assertEquals(200, mode.statusCode());
        assertEquals("iptables", mode.body());
    }

    @Test
    void healthTurns503WhileSyncsFailAnd200AfterOneWorks() throws Exception {
        ChangeTracker tracker = start();
        Poll.until("a first sync", () -> backend.syncs.get() >= 1);
        assertEquals(200, get(healthPort, "/healthz").statusCode());

        backend.failing.set(true);
        tracker.updateService(null, Fixtures.clusterIPService("ns", "a", "10.96.0.1", "http", 80, "TCP"));
        Poll.until("/healthz 503: a change waiting longer than 2 x " + SYNC_PERIOD.toMillis() + " ms",
                () -> get(healthPort, "/healthz").statusCode() == 503);
        HttpResponse<String> livez = get(healthPort, "/livez");
        assertEquals(503, livez.statusCode());
        assertTrue(livez.body().contains("\"healthy\":false") && livez.body().contains("\"IPv4\":{"), livez.body());
        assertTrue(scrape().value("kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family=\"IPv4\"}") >= 1);

        backend.failing.set(false);
        Poll.until("/healthz 200 after a successful sync", () -> get(healthPort, "/healthz").statusCode() == 200);
        HttpResponse<String> ok = get(healthPort, "/healthz");
        assertTrue(ok.body().contains("\"nodeEligible\":true,\"healthy\":true"), ok.body());
        Scrape s = scrape();
        assertTrue(s.value("kubeproxy_proxy_healthz_total{code=\"503\"}") >= 1);
        assertTrue(s.value("kubeproxy_proxy_healthz_total{code=\"200\"}") >= 2);
        assertTrue(s.value("kubeproxy_proxy_livez_total{code=\"503\"}") >= 1);
    }

    @Test
    void aNodeBeingDeletedFailsHealthzButNotLivez() throws Exception {
        ChangeTracker tracker = start();
        Poll.until("a first sync", () -> backend.syncs.get() >= 1);
        tracker.updateNode(new NodeBuilder(Fixtures.node("node-a", Map.of())).editMetadata()
                .withDeletionTimestamp("2026-11-23T10:00:00Z").endMetadata().build());
        HttpResponse<String> healthz = get(healthPort, "/healthz");
        assertEquals(503, healthz.statusCode());
        assertTrue(healthz.body().contains("\"nodeEligible\":false"), healthz.body());
        assertEquals(200, get(healthPort, "/livez").statusCode());
    }

    @Test
    void anAddressInUseIsRetriedNotFatal() throws Exception {
        List<String> reported = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            daemon = new ProxyDaemon("node-a", InputProblems.logging(),
                    "iptables", new ModeRuntime(List.of(new FamilyBackend("fake IPv4", IpFamily.IPV4, backend)), new IptablesMetrics()),
                    t -> new ProxyDaemonHealthTest.IdleSource(), Duration.ofMillis(10), SYNC_PERIOD);
            daemon.serveHttp(BindAddress.parse("127.0.0.1:" + taken.getLocalPort()), null,
                    (reason, error) -> reported.add(reason + ": " + error));
            assertEquals(List.of(), daemon.httpAddresses(), "not listening yet");
            Poll.until("the failure reported once, as upstream's Warning event", () -> !reported.isEmpty());
            assertTrue(reported.get(0).startsWith(ProxyDaemon.HEALTHZ_FAILED + ": cannot listen on 127.0.0.1:"), reported.toString());
        }
        Poll.until("bound once the port is free (retried every " + ProxyDaemon.HTTP_RETRY.toSeconds() + " s)",
                () -> daemon.httpAddresses().size() == 1);
        assertEquals(1, reported.size(), "reported once, not at every retry: " + reported);
    }
}
