package dev.ferry.bench.footprint;

import dev.ferry.bench.Cluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One cluster size as the proxy reads it, both ways: a --manifests directory (YAML files of 1,000
 * Services and their EndpointSlices each, plus the Node), and fabric8's mock API server in CRUD mode
 * holding the same objects, listening on an address the containers reach (the Docker bridge's
 * gateway), with a kubeconfig naming it. {@link #close()} stops the server and deletes the files.
 */
final class ClusterInputs implements AutoCloseable {

    private static final int PER_FILE = 1000;

    final Cluster cluster;
    final Path dir;
    final Path manifests;
    final Path kubeconfig;
    private final KubernetesMockServer server;

    private ClusterInputs(Cluster cluster, Path dir, KubernetesMockServer server) {
        this.cluster = cluster;
        this.dir = dir;
        this.manifests = dir.resolve("manifests");
        this.kubeconfig = dir.resolve("kubeconfig");
        this.server = server;
    }

    /** Writes the manifests and fills a mock API server on {@code apiAddress}. */
    static ClusterInputs create(Cluster cluster, String apiAddress) throws IOException {
        Path dir = Files.createTempDirectory("fy-footprint-" + cluster.services() + "x" + cluster.endpointsPerService() + "-");
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getByName(apiAddress), 0);
        ClusterInputs in = new ClusterInputs(cluster, dir, server);
        try {
            in.writeManifests();
            in.fillServer();
            Files.writeString(in.kubeconfig, """
                    apiVersion: v1
                    kind: Config
                    clusters:
                    - name: mock
                      cluster:
                        server: http://%s:%d
                    contexts:
                    - name: mock
                      context: {cluster: mock, user: bench}
                    current-context: mock
                    users:
                    - name: bench
                      user: {token: footprint-benchmark}
                    """.formatted(apiAddress, server.getPort()));
            // the proxy runs as root in its container; the files only need to be readable
            return in;
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    static Node node() {
        return new NodeBuilder().withNewMetadata().withName(Cluster.NODE)
                .addToLabels("kubernetes.io/hostname", Cluster.NODE).endMetadata().build();
    }

    private void writeManifests() throws IOException {
        Files.createDirectory(manifests);
        KubernetesSerialization yaml = new KubernetesSerialization();
        Files.writeString(manifests.resolve("node.yaml"), yaml.asYaml(node()));
        for (int first = 0; first < cluster.services(); first += PER_FILE) {
            Path file = manifests.resolve(String.format("services-%05d.yaml", first));
            try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                for (int i = first; i < Math.min(cluster.services(), first + PER_FILE); i++) {
                    w.write(yaml.asYaml(cluster.service(i))); // each starts with "---"
                    w.write(yaml.asYaml(cluster.slice(i)));
                }
            }
        }
    }

    /** Creates every object through the API, four requests at a time. */
    private void fillServer() {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (KubernetesClient client = server.createClient()) {
            client.resource(node()).create();
            List<Future<?>> pending = new ArrayList<>();
            for (int first = 0; first < cluster.services(); first += PER_FILE) {
                int from = first;
                pending.add(pool.submit(() -> {
                    for (int i = from; i < Math.min(cluster.services(), from + PER_FILE); i++) {
                        create(client, cluster.service(i));
                        create(client, cluster.slice(i));
                    }
                }));
            }
            for (Future<?> f : pending) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted filling the mock API server", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("filling the mock API server failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static void create(KubernetesClient client, HasMetadata object) {
        client.resource(object).create();
    }

    @Override
    public void close() {
        server.destroy();
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
