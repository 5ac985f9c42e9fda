package dev.ferry.proxy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy started with the command lines real installs give kube-proxy, against fabric8's mock
 * API server, syncing once in a dry run (so nothing on this machine is touched; --dry-run and
 * --once are the only flags added): kubeadm's DaemonSet (--config with the config.conf kubeadm
 * writes, and its kubeconfig.conf with a tokenFile user) and kops' manifest (a flag list with
 * klog's removed log file flags).
 */
class UpstreamCommandLinesTest {

    static final String CLUSTER_IP = "10.96.0.20";
    static final String ENDPOINT = "10.244.1.5";

    @TempDir
    Path dir;
    private KubernetesMockServer server;
    private NamespacedKubernetesClient client;

    @BeforeEach
    void cluster() throws IOException, InterruptedException {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getByName("127.0.0.1"), 0);
        client = server.createClient();
        for (String yaml : List.of("""
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: default}
                spec:
                  clusterIP: %s
                  clusterIPs: [%s]
                  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
                """.formatted(CLUSTER_IP, CLUSTER_IP), """
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: web-abc
                  namespace: default
                  labels: {kubernetes.io/service-name: web}
                addressType: IPv4
                ports: [{name: http, port: 8080, protocol: TCP}]
                endpoints: [{addresses: [%s], conditions: {ready: true}, nodeName: node-1}]
                """.formatted(ENDPOINT), """
                apiVersion: v1
                kind: Node
                metadata: {name: node-1}
                status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
                """)) {
            HasMetadata object = client.getKubernetesSerialization().unmarshal(yaml);
            client.resource(object).create();
        }
        while (server.takeRequest(50, TimeUnit.MILLISECONDS) != null) {
            // drop the set-up requests: the test looks at the proxy's own
        }
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
        Logging.reset();
    }

    private String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /** A kubeconfig for the mock server whose user authenticates as {@code user} says. */
    private Path kubeconfig(Path file, String user) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, Kubeconfigs.kubeadm(url(), user));
    }

    /** What the proxy printed, having checked that the one sync succeeded and programmed the Service. */
    private static String synced(ProxyOptionsTest.Run r) {
        assertEquals(0, r.status(), "the sync must succeed: " + r.err());
        assertTrue(r.out().contains("-d " + CLUSTER_IP + "/32") || r.out().contains("-d " + CLUSTER_IP + " "),
                "the Service's ClusterIP is programmed:\n" + r.out());
        assertTrue(r.out().contains("--to-destination " + ENDPOINT + ":8080"), "its endpoint too:\n" + r.out());
        return r.out();
    }

    private List<String> authorizations() throws InterruptedException {
        List<String> out = new ArrayList<>();
        for (RecordedRequest q = server.takeRequest(1, TimeUnit.SECONDS); q != null; q = server.takeRequest(100, TimeUnit.MILLISECONDS)) {
            out.add(q.getHeader("Authorization"));
        }
        return out;
    }

    /**
     * kubeadm's DaemonSet: {@code kube-proxy --config=/var/lib/kube-proxy/config.conf
     * --hostname-override=$(NODE_NAME)}, the ConfigMap mounted at /var/lib/kube-proxy with kubeadm's
     * config.conf (every v1alpha1 field, most zero) and kubeconfig.conf (a tokenFile user: the pod's
     * service-account token; the mock serves plain HTTP, so no certificate-authority).
     */
    @Test
    void kubeadmsCommandLineAndConfigMapSync() throws Exception {
        Path mount = dir.resolve("var/lib/kube-proxy");
        Path token = Files.writeString(dir.resolve("token"), "kubeadm-sa-token\n");
        Path kubeconfig = kubeconfig(mount.resolve("kubeconfig.conf"), "tokenFile: " + token);
        String conf = Files.readString(Path.of("src/test/resources/config/kubeadm-config.conf"))
                .replace("/var/lib/kube-proxy/kubeconfig.conf", kubeconfig.toString());
        Path config = Files.writeString(mount.resolve("config.conf"), conf);

        synced(ProxyOptionsTest.main("--config=" + config, "--hostname-override=node-1", "--dry-run", "--once"));
        List<String> auth = authorizations();
        assertTrue(!auth.isEmpty() && auth.stream().allMatch("Bearer kubeadm-sa-token"::equals), auth.toString());
    }

    /**
     * kops' kube-proxy manifest (nodeup, before it moved to go-runner): its flags sorted, then klog's
     * --logtostderr=false --alsologtostderr --log-file, which upstream removed in v1.26. Needs the
     * node flags --conntrack-max-per-core and --oom-score-adj (another part of issue 13).
     */
    @Test
    void kopsFlagListSyncsAndLogsToItsFile() throws Exception {
        Path kubeconfig = kubeconfig(dir.resolve("var/lib/kube-proxy/kubeconfig"), "token: kops-token");
        Path logFile = dir.resolve("var/log/kube-proxy.log");
        synced(ProxyOptionsTest.main("--cluster-cidr=100.96.0.0/11", "--conntrack-max-per-core=131072",
                "--hostname-override=node-1", "--kubeconfig=" + kubeconfig, "--master=" + url(), "--oom-score-adj=-998",
                "--v=2", "--logtostderr=false", "--alsologtostderr", "--log-file=" + logFile, "--dry-run", "--once"));
        String log = Files.readString(logFile);
        assertTrue(log.contains("full sync complete"), "the log file has the sync:\n" + log);
        assertTrue(log.contains("--log-file: klog's flag, removed from kube-proxy in v1.26"), log);
        assertTrue(authorizations().contains("Bearer kops-token"));
    }

    /** Older kops and many hand-written manifests: --resource-container="" and underscores in klog's names. */
    @Test
    void olderFlagSpellingsSync() throws Exception {
        Path kubeconfig = kubeconfig(dir.resolve("kubeconfig"), "token: t");
        synced(ProxyOptionsTest.main("--kubeconfig=" + kubeconfig, "--hostname-override=node-1", "--resource-container=\"\"",
                "--logtostderr=true", "--v=2", "--healthz-bind-address=127.0.0.1", "--metrics-port=0", "--dry-run", "--once"));
    }
}
