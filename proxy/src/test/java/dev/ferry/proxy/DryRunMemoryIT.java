package dev.ferry.proxy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@code --dry-run --once} of 10,000 Services x 10 endpoints in a JVM limited to
 * {@value #HEAP}: the 30 MB payload goes to standard output as it is written. Before the dry
 * run streamed (and before the manifests were parsed one document at a time) the same run died
 * of OutOfMemoryError at 224 and 256 MB, and near 300 MB depending on the collector's timing,
 * as the issue measured; now 176 MB is enough (160 MB is not), so the limit leaves a margin.
 * A process of its own: only a JVM started with the limit shows it.
 */
class DryRunMemoryIT {

    static final String HEAP = "-Xmx224m";
    static final int SERVICES = 10_000;
    static final int ENDPOINTS = 10;

    @TempDir
    Path dir;

    @Test
    void tenThousandServicesPrintUnderASmallHeap() throws Exception {
        Path manifests = Files.createDirectory(dir.resolve("manifests"));
        writeCluster(manifests.resolve("cluster.yaml"));
        Path run = Files.createDirectory(dir.resolve("run"));
        try (ForkedMain proxy = ForkedMain.start(run, Map.of("HOME", run.toString(), "PATH", "/usr/bin:/bin"),
                List.of(HEAP, "-XX:+ExitOnOutOfMemoryError"),
                List.of("--manifests", manifests.toString(), "--dry-run", "--once", "--hostname-override=node-0"))) {
            int status = proxy.exitStatus(Duration.ofMinutes(3));
            List<String> err = proxy.errLines();
            assertFalse(err.stream().anyMatch(l -> l.contains("OutOfMemoryError")), String.join("\n", err));
            assertEquals(0, status, String.join("\n", err));
            assertEquals(SERVICES, countClusterIpRules(proxy.stdout()), "every Service's cluster IP rule is printed");
        }
    }

    private static long countClusterIpRules(Path out) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(out, StandardCharsets.UTF_8)) {
            return r.lines().filter(l -> l.startsWith("-A KUBE-SERVICES ") && l.contains(" cluster IP\"")).count();
        }
    }

    /** One Service (one TCP port) and one EndpointSlice of ready endpoints per Service, in one multi-document file. */
    private static void writeCluster(Path file) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int i = 0; i < SERVICES; i++) {
                w.write("---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-" + i + ", namespace: ns-" + i / 1000 + "}\n"
                        + "spec:\n  clusterIP: 172.30." + i / 256 + "." + i % 256 + "\n"
                        + "  ports: [{name: p80, port: 80, protocol: TCP, targetPort: 8080}]\n");
                w.write("---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
                        + "metadata: {name: svc-" + i + "-abcde, namespace: ns-" + i / 1000
                        + ", labels: {kubernetes.io/service-name: svc-" + i + "}}\n"
                        + "addressType: IPv4\nports: [{name: p80, port: 8080, protocol: TCP}]\nendpoints:\n");
                for (int j = 0; j < ENDPOINTS; j++) {
                    int k = i * ENDPOINTS + j;
                    w.write("- {addresses: [10." + (1 + k / 65_536) + "." + k / 256 % 256 + "." + k % 256 + "], "
                            + "conditions: {ready: true}, nodeName: node-" + (i + j) % 50 + "}\n");
                }
            }
        }
    }
}
