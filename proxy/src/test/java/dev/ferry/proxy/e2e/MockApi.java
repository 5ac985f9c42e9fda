package dev.ferry.proxy.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;

/**
 * fabric8's mock API server in CRUD mode, in the test JVM, made reachable from the node namespace.
 *
 * <p>The node namespace cannot reach the root namespace's loopback, so two socat processes carry
 * the connection over a unix socket (the file system is shared, the network is not): in the root
 * namespace {@code UNIX-LISTEN:sock → TCP:127.0.0.1:<mock port>}, in the node namespace
 * {@code TCP-LISTEN:127.0.0.1:16443 → UNIX-CONNECT:sock}. The host network is not touched.
 * {@link #cut()} kills both (with every forwarded connection), {@link #reconnect()} starts them
 * again: from the proxy's side, the API server went away and came back. The mock server keeps
 * running and accepts changes meanwhile.
 */
final class MockApi implements AutoCloseable {
    static final int NODE_PORT = 16443;

    private final Topology topology;
    private final KubernetesMockServer server;
    private final NamespacedKubernetesClient client;
    private final Path socket;
    private final Path kubeconfig;
    private Proc rootSide;
    private Proc nodeSide;

    MockApi(Topology topology) {
        this.topology = topology;
        this.server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        try {
            server.init(InetAddress.getByName("127.0.0.1"), 0);
            this.client = server.createClient();
            this.socket = Path.of("/tmp", topology.prefix() + "-api.sock");
            this.kubeconfig = Files.createTempFile(topology.prefix() + "-kubeconfig", ".yaml");
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
                      user: {token: e2e-test-token}
                    """.formatted(NODE_PORT));
        } catch (IOException e) {
            server.destroy();
            throw new UncheckedIOException(e);
        }
        reconnect();
    }

    Path kubeconfig() {
        return kubeconfig;
    }

    /** Creates or replaces the object in {@code yaml} (the same text the file tests write). */
    void apply(String yaml) {
        HasMetadata object = client.getKubernetesSerialization().unmarshal(yaml);
        client.resource(object).createOr(NonDeletingOperation::update);
    }

    /** The reasons of the Events recorded so far (events.k8s.io/v1 and core v1, every namespace). */
    java.util.List<String> eventReasons() {
        java.util.List<String> out = new java.util.ArrayList<>();
        client.events().v1().events().inAnyNamespace().list().getItems().forEach(e -> out.add(e.getReason()));
        client.v1().events().inAnyNamespace().list().getItems().forEach(e -> out.add(e.getReason()));
        return out;
    }

    void delete(String yaml) {
        HasMetadata object = client.getKubernetesSerialization().unmarshal(yaml);
        client.resource(object).delete();
    }

    /** Starts the two bridge processes and waits until the node namespace gets an API answer. */
    void reconnect() {
        rootSide = topology.track(Proc.start(List.of("socat",
                "UNIX-LISTEN:" + socket + ",fork,unlink-early,mode=600",
                "TCP4:127.0.0.1:" + server.getPort())));
        nodeSide = topology.track(topology.node().start(List.of("socat",
                "TCP4-LISTEN:" + NODE_PORT + ",bind=127.0.0.1,fork,reuseaddr",
                "UNIX-CONNECT:" + socket)));
        Wait.until("the mock API server answering in " + topology.node(), Duration.ofSeconds(10),
                () -> Proc.run(Duration.ofSeconds(5), topology.node().argv("socat", "-t2", "-T3", "-",
                        "TCP4:127.0.0.1:" + NODE_PORT), "GET /version HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n").out(),
                out -> out.startsWith("HTTP/1.1"),
                out -> "answer: " + out + "\nbridge: " + rootSide.err() + " " + nodeSide.err());
    }

    /** Kills both bridge processes and their forwarded connections: the API server is gone. */
    void cut() {
        nodeSide.kill();
        rootSide.kill();
    }

    @Override
    public void close() {
        if (nodeSide != null) {
            nodeSide.close();
        }
        if (rootSide != null) {
            rootSide.close();
        }
        client.close();
        server.destroy();
        try {
            Files.deleteIfExists(kubeconfig);
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // best effort; the names are unique per run
        }
    }
}
