package dev.ferry.proxy.source;

import dev.ferry.core.Fixtures;
import dev.ferry.core.Poll;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API source against fabric8's mock API server in CRUD mode (it keeps what it is sent). */
class ApiSourceTest {

    private final TrackerProbe probe = new TrackerProbe("node-1");
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private KubernetesMockServer server(int port) {
        return server(port, new KubernetesCrudDispatcher());
    }

    private KubernetesMockServer server(int port, KubernetesCrudDispatcher dispatcher) {
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                dispatcher, false);
        server.init(InetAddress.getLoopbackAddress(), port);
        toClose.add(server::destroy);
        return server;
    }

    /** A client of the server at {@code port} that retries quickly, ignoring this machine's kubeconfig. */
    private KubernetesClient client(int port) {
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl("http://127.0.0.1:" + port)
                .withWatchReconnectInterval(100).withRequestRetryBackoffInterval(100).build();
        KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
        toClose.add(client);
        return client;
    }

    private ApiSource source(int port) {
        ApiSource source = new ApiSource(client(port), probe.tracker);
        toClose.add(source);
        source.start();
        return source;
    }

    private static EndpointSlice slice(String name, String service, String... ips) {
        Fixtures.Ep[] eps = new Fixtures.Ep[ips.length];
        for (int i = 0; i < ips.length; i++) {
            eps[i] = Fixtures.Ep.ready(ips[i]);
        }
        return Fixtures.slice("ns", name, service, "p", 8080, "TCP", eps);
    }

    private static Service service(String name, String ip) {
        return Fixtures.clusterIPService("ns", name, ip, "p", 80, "TCP");
    }

    /** A failed request in one line: the server's answer, else the network's error, never a bare wrapper. */
    @Test
    void aFailureIsNamedByTheServersAnswerOrTheNetworksError() {
        // the JDK's HTTP client: ConnectException around a ClosedChannelException without a message
        java.net.ConnectException connect = new java.net.ConnectException("Connection refused");
        connect.initCause(new java.nio.channels.ClosedChannelException());
        var refused = new io.fabric8.kubernetes.client.KubernetesClientException("An error has occurred.", connect);
        assertEquals("ConnectException: Connection refused", ApiSource.reason(refused));
        var forbidden = new io.fabric8.kubernetes.client.KubernetesClientException(new io.fabric8.kubernetes.api.model.StatusBuilder()
                .withCode(403).withMessage("services is forbidden").build());
        assertTrue(ApiSource.reason(new RuntimeException(forbidden)).contains("services is forbidden"),
                ApiSource.reason(new RuntimeException(forbidden)));
        assertEquals("IllegalStateException: x", ApiSource.reason(new RuntimeException(new IllegalStateException("x"))));
    }

    @Test
    void objectsReachTheTrackerAndTheFirstListIsCompleteWhenSynced() throws Exception {
        KubernetesMockServer server = server(0);
        KubernetesClient api = client(server.getPort());
        api.services().resource(service("a", "10.96.0.1")).create();
        api.discovery().v1().endpointSlices().resource(slice("a-1", "a", "10.1.0.1", "10.1.0.2")).create();
        api.nodes().resource(Fixtures.node("node-1", Map.of("topology.kubernetes.io/zone", "z1"))).create();
        api.nodes().resource(Fixtures.node("node-2", Map.of("topology.kubernetes.io/zone", "z2"))).create();

        ApiSource source = source(server.getPort());
        assertTrue(source.awaitSynced(Duration.ofSeconds(20)));
        // Synced means delivered: the very next snapshot has the whole initial state.
        assertEquals(Map.of("ns/a:p", List.of("10.1.0.1:8080", "10.1.0.2:8080")), probe.services());
        assertEquals("z1", probe.nodeLabels().get("topology.kubernetes.io/zone"));

        api.services().resource(service("b", "10.96.0.2")).create();
        probe.awaitServices("the created Service", s -> s.containsKey("ns/b:p"));

        api.discovery().v1().endpointSlices().resource(slice("a-1", "a", "10.1.0.3")).update();
        probe.awaitServices("the updated slice", s -> List.of("10.1.0.3:8080").equals(s.get("ns/a:p")));

        api.services().inNamespace("ns").withName("a").delete();
        probe.awaitServices("the deleted Service gone", s -> !s.containsKey("ns/a:p") && s.containsKey("ns/b:p"));

        api.nodes().resource(Fixtures.node("node-1", Map.of("topology.kubernetes.io/zone", "z3"))).update();
        Poll.until("the node's new labels", () -> "z3".equals(probe.nodeLabels().get("topology.kubernetes.io/zone")));
        api.nodes().resource(Fixtures.node("node-2", Map.of("topology.kubernetes.io/zone", "z4"))).update();
        // Another node's change must not leak in: create a Service after it and see only that.
        api.services().resource(service("c", "10.96.0.3")).create();
        probe.awaitServices("a later Service", s -> s.containsKey("ns/c:p"));
        assertEquals("z3", probe.nodeLabels().get("topology.kubernetes.io/zone"));
        assertEquals(List.of(), probe.problems);
    }

    @Test
    void otherProxiesServicesAndHeadlessSlicesAreNotProgrammed() throws Exception {
        KubernetesMockServer server = server(0);
        KubernetesClient api = client(server.getPort());
        Service other = service("other", "10.96.0.5");
        other.getMetadata().setLabels(Map.of("service.kubernetes.io/service-proxy-name", "someone-else"));
        api.services().resource(other).create();
        EndpointSlice headless = slice("h-1", "h", "10.1.0.9");
        headless.getMetadata().getLabels().put("service.kubernetes.io/headless", "");
        api.discovery().v1().endpointSlices().resource(headless).create();
        api.services().resource(service("mine", "10.96.0.6")).create();
        api.discovery().v1().endpointSlices().resource(slice("mine-1", "mine", "10.1.0.6")).create();

        assertTrue(source(server.getPort()).awaitSynced(Duration.ofSeconds(20)));
        assertEquals(Map.of("ns/mine:p", List.of("10.1.0.6:8080")), probe.services());
    }

    @Test
    void notSyncedUntilTheApiServerAnswersThenSynced() throws Exception {
        int port = freePort();
        ApiSource source = source(port);
        assertFalse(source.awaitSynced(Duration.ofMillis(500)), "nothing listed yet");

        KubernetesMockServer server = server(port);
        client(port).services().resource(service("a", "10.96.0.1")).create();
        assertTrue(source.awaitSynced(Duration.ofSeconds(30)));
        probe.awaitServices("the Service", s -> s.containsKey("ns/a:p"));
        assertTrue(server.getPort() == port);
    }

    @Test
    void survivesTheApiServerGoingAwayAndComingBack() throws Exception {
        KubernetesMockServer first = server(0);
        int port = first.getPort();
        KubernetesClient api = client(port);
        api.services().resource(service("a", "10.96.0.1")).create();
        api.services().resource(service("b", "10.96.0.2")).create();
        ApiSource source = source(port);
        assertTrue(source.awaitSynced(Duration.ofSeconds(20)));
        assertEquals(List.of("ns/a:p", "ns/b:p"), List.copyOf(probe.services().keySet()));

        first.destroy();
        // While it is gone the tracker keeps what it had.
        assertEquals(List.of("ns/a:p", "ns/b:p"), List.copyOf(probe.services().keySet()));

        // A new server on the same address, whose state changed meanwhile: a deleted, c created.
        KubernetesMockServer second = server(port, new RestartedApiDispatcher());
        KubernetesClient api2 = client(second.getPort());
        api2.services().resource(service("b", "10.96.0.2")).create();
        api2.services().resource(service("c", "10.96.0.3")).create();
        probe.awaitServices("the state after the restart", s -> s.keySet().equals(Set.of("ns/b:p", "ns/c:p")));

        // And the new watch works.
        api2.services().resource(service("d", "10.96.0.4")).create();
        probe.awaitServices("a Service created after the restart", s -> s.containsKey("ns/d:p"));
    }

    @Test
    void masterFlagNamesTheServer() {
        try (KubernetesClient c = ApiClients.connect(null, "https://10.0.0.1:6443")) {
            assertEquals("https://10.0.0.1:6443/", c.getMasterUrl().toString());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
