package dev.ferry.proxy.inspect;

import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortState;
import dev.ferry.proxy.source.SnapshotLoader;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One snapshot from each of the proxy's sources: fabric8's mock API server (CRUD mode) and a manifests directory. */
class SnapshotLoaderTest {

    @Test
    void fromTheApiServerThroughAKubeconfig(@TempDir Path dir) throws Exception {
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        try (KubernetesClient client = server.createClient()) {
            client.nodes().resource(Fixtures.node("node-a", Map.of(NodeInfo.ZONE_LABEL, "zone-a"))).create();
            client.services().resource(Fixtures.clusterIPService("default", "web", "10.96.0.10", "http", 80, "TCP")).create();
            client.discovery().v1().endpointSlices().resource(Fixtures.slice("default", "web-1", "web", "http", 80, "TCP",
                    Ep.ready("10.244.0.21").onNode("node-a"), Ep.ready("10.244.0.22").notReady())).create();
            Path kubeconfig = dir.resolve("kubeconfig");
            Files.writeString(kubeconfig, """
                    apiVersion: v1
                    kind: Config
                    clusters:
                    - name: mock
                      cluster:
                        server: http://127.0.0.1:%d
                    contexts:
                    - name: mock
                      context: {cluster: mock, user: test, namespace: default}
                    current-context: mock
                    users:
                    - name: test
                      user: {token: unit-test-token}
                    """.formatted(server.getPort()));
            ProxySnapshot snap = SnapshotLoader.load(null, kubeconfig, null, "node-a", Duration.ofSeconds(20), p -> { });
            assertEquals("zone-a", snap.node().zone());
            ServicePortState web = snap.servicePorts().iterator().next();
            assertEquals("default/web:http", web.name().toString());
            assertEquals(2, web.endpoints().size());
            assertEquals(List.of("10.244.0.21:80"), web.ipv4().clusterEndpoints().stream().map(Object::toString).toList());
        } finally {
            server.destroy();
        }
    }

    @Test
    void fromManifestsWithProblemsReported(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("svc.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: default}
                spec:
                  clusterIP: 10.96.0.10
                  clusterIPs: [10.96.0.10]
                  ports: [{name: http, port: 80, protocol: TCP}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: bad, namespace: default}
                spec:
                  clusterIP: 10.96.0.11
                  clusterIPs: [10.96.0.11]
                  ports: [{name: http, port: 0, protocol: TCP}]
                """);
        List<String> problems = new ArrayList<>();
        ProxySnapshot snap = SnapshotLoader.load(dir, null, null, "node-a", Duration.ofSeconds(10), problems::add);
        assertEquals(1, snap.servicePorts().size());
        assertTrue(problems.stream().anyMatch(p -> p.contains("default/bad") && p.contains("port")), problems.toString());
    }

    @Test
    void aMissingDirectoryTimesOutNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("nope");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SnapshotLoader.load(missing, null, null, "node-a", Duration.ofSeconds(1), p -> { }));
        assertTrue(e.getMessage().startsWith("--manifests " + missing), e.getMessage());
    }
}
