package dev.ferry.proxy;

import dev.ferry.core.Backend;
import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Fixtures;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Poll;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.ModeMetrics;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.proxy.source.InputProblems;
import dev.ferry.proxy.source.Source;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's health wiring with a fake backend: changes are queued, successful syncs clear
 * them, syncs that keep failing make the proxy unhealthy after twice the sync period, and the
 * health check node ports follow successful syncs (served on loopback, asked over HTTP).
 */
class ProxyDaemonHealthTest {
    static final Duration SYNC_PERIOD = Duration.ofMillis(300);

    /** A backend whose syncs succeed or fail as the test says, remembering the last snapshot. */
    static final class SwitchBackend implements Backend {
        final AtomicBoolean failing = new AtomicBoolean();
        final AtomicReference<ProxySnapshot> last = new AtomicReference<>();

        @Override
        public String mode() {
            return "fake";
        }

        @Override
        public SyncResult sync(ProxySnapshot snapshot) {
            last.set(snapshot);
            return failing.get() ? SyncResult.failure(true, Duration.ZERO, "told to fail")
                    : SyncResult.success(true, 1, Duration.ZERO);
        }

        @Override
        public SyncResult cleanup() {
            return SyncResult.success(true, 0, Duration.ZERO);
        }
    }

    /** A source that is synced at once and feeds nothing by itself. */
    static final class IdleSource implements Source {
        @Override
        public void start() {
        }

        @Override
        public boolean awaitSynced(Duration timeout) {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private final SwitchBackend backend = new SwitchBackend();
    private final AtomicReference<ChangeTracker> tracker = new AtomicReference<>();
    private ProxyDaemon daemon;

    @AfterEach
    void close() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private ProxyDaemon start(boolean healthChecks) throws InterruptedException {
        daemon = new ProxyDaemon("node-a", InputProblems.logging(), "fake",
                new ModeRuntime(List.of(new FamilyBackend("fake IPv4", IpFamily.IPV4, backend)), ModeMetrics.NONE),
                t -> {
                    tracker.set(t);
                    return new IdleSource();
                }, Duration.ofMillis(10), SYNC_PERIOD);
        if (healthChecks) {
            daemon.serveHealthCheckNodePorts(List.of("127.0.0.0/8"));
        }
        daemon.startSource();
        assertTrue(daemon.startSyncing(() -> false));
        return daemon;
    }

    static Service localLoadBalancer(int healthCheckNodePort) {
        return new ServiceBuilder(Fixtures.clusterIPService("ns", "lb", "10.96.0.9", "http", 80, "TCP"))
                .editSpec().withType("LoadBalancer").withExternalTrafficPolicy("Local")
                .withHealthCheckNodePort(healthCheckNodePort).endSpec().build();
    }

    @Test
    void syncsThatKeepFailingMakeTheProxyUnhealthyUntilOneSucceeds() throws Exception {
        start(false);
        Poll.until("a first sync", () -> backend.last.get() != null);
        assertTrue(daemon.health().healthy());

        backend.failing.set(true);
        tracker.get().updateService(null, Fixtures.clusterIPService("ns", "a", "10.96.0.1", "http", 80, "TCP"));
        Poll.until("unhealthy: a change waiting longer than 2 x " + SYNC_PERIOD.toMillis() + " ms",
                () -> !daemon.health().healthy());

        backend.failing.set(false);
        Poll.until("healthy again after a successful sync", () -> daemon.health().healthy());
    }

    @Test
    void healthCheckNodePortsFollowSuccessfulSyncs() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        start(true);
        tracker.get().updateNode(Fixtures.node("node-a", Map.of()));
        tracker.get().updateService(null, localLoadBalancer(port));
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).timeout(Duration.ofSeconds(2)).build();
        AtomicReference<HttpResponse<String>> answer = new AtomicReference<>();
        Poll.until("the health check node port answering", () -> {
            try {
                answer.set(http.send(get, HttpResponse.BodyHandlers.ofString()));
                return true;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        assertEquals(503, answer.get().statusCode(), "no endpoints on this node");
        assertEquals("0", answer.get().headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElse(""));
        assertTrue(answer.get().body().contains("\"name\": \"lb\""), answer.get().body());
    }
}
