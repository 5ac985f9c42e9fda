package dev.ferry.proxy.e2e;

import dev.ferry.proxy.Kubeconfigs;

import com.github.dockerjava.api.model.Capability;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes as Docker containers, each running deploy/'s image (our proxy, iptables mode, its own
 * network namespace, NET_ADMIN and NET_RAW), and one backend container "on" each node: the
 * EndpointSlice puts backend-1 on node-1 and backend-2 on node-2. A client on node-1 (docker
 * exec in node-1's container, so in the proxy's network namespace) reaches both backends through
 * the ClusterIP, and both through node-2's NodePort, which node-2's proxy serves and masquerades.
 *
 * <p>The two nodes are installed the two ways docs/deploy.md describes: node-1 as deploy/'s
 * DaemonSet (its command line and its ConfigMap's config.conf, read from deploy/), with Services
 * from a --manifests directory; node-2 as kubeadm's DaemonSet with only the image swapped
 * (/usr/local/bin/kube-proxy, kubeadm's config.conf and kubeconfig.conf with a service-account
 * tokenFile), watching fabric8's mock API server, which runs in this JVM on the test network's
 * gateway address.
 *
 * <p>Not {@code --privileged} as the DaemonSet: where the Docker engine itself runs in a container
 * without CAP_SYS_RESOURCE (as on these machines), runc cannot grant every capability and refuses
 * to start a privileged container. Without it /proc/sys is read-only, so the node containers start
 * with the sysctls a Kubernetes node has (the proxy reads route_localnet, finds 1, writes nothing).
 *
 * <p>No registry is reachable: the base images are built by deploy/image/build-base.sh (debootstrap,
 * docker import; .ci/run builds them first, this test does when they are missing or stale) and the
 * proxy image by {@code docker build -f deploy/Dockerfile} from the jar of this build, on the test
 * base: the production base plus a layer with socat (the backends, and the clients exec'd in the
 * node containers) and procps, which the production image does not carry. Testcontainers' Ryuk is
 * off (its image cannot be pulled; failsafe sets TESTCONTAINERS_RYUK_DISABLED): {@link #stop()}
 * removes every container and the network.
 */
class MultiNodeIT {
    private static final String BASE_IMAGE = "ferry-runtime:bookworm";
    /** BASE_IMAGE with the test's tools; build-base.sh makes both. */
    private static final String TEST_BASE_IMAGE = BASE_IMAGE + "-test";
    private static final String PROXY_IMAGE = "ferry-proxy:it";
    private static final String CLUSTER_IP = "10.96.0.40";
    private static final int PORT = 80;
    private static final int TARGET_PORT = 8080;
    private static final int NODE_PORT = 30080;
    private static final Duration SYNCED = Duration.ofSeconds(90);
    private static final int TRIES = 40;
    /** Set by the kubelet or CNI on a real node, or by the privileged proxy itself (route_localnet). */
    private static final Map<String, String> NODE_SYSCTLS = Map.of(
            "net.ipv4.ip_forward", "1", "net.ipv4.conf.all.route_localnet", "1");

    /**
     * config.conf as kubeadm writes it into its kube-proxy ConfigMap (every field, mostly zero
     * values that upstream's defaulting fills in), with a pod network.
     */
    private static final String KUBEADM_CONFIG_CONF = """
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            bindAddress: 0.0.0.0
            bindAddressHardFail: false
            clientConnection:
              acceptContentTypes: ""
              burst: 0
              contentType: ""
              kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
              qps: 0
            clusterCIDR: 10.244.0.0/16
            configSyncPeriod: 0s
            conntrack:
              maxPerCore: null
              min: null
              tcpBeLiberal: false
              tcpCloseWaitTimeout: null
              tcpEstablishedTimeout: null
              udpStreamTimeout: 0s
              udpTimeout: 0s
            detectLocal:
              bridgeInterface: ""
              interfaceNamePrefix: ""
            detectLocalMode: ""
            enableProfiling: false
            healthzBindAddress: ""
            hostnameOverride: ""
            iptables:
              localhostNodePorts: null
              masqueradeAll: false
              masqueradeBit: null
              minSyncPeriod: 0s
              syncPeriod: 0s
            ipvs:
              excludeCIDRs: null
              minSyncPeriod: 0s
              scheduler: ""
              strictARP: false
              syncPeriod: 0s
              tcpFinTimeout: 0s
              tcpTimeout: 0s
              udpTimeout: 0s
            kind: KubeProxyConfiguration
            logging:
              flushFrequency: 0
              options:
                json:
                  infoBufferSize: "0"
                text:
                  infoBufferSize: "0"
              verbosity: 0
            metricsBindAddress: ""
            mode: ""
            nftables:
              masqueradeAll: false
              masqueradeBit: null
              minSyncPeriod: 0s
              syncPeriod: 0s
            nodePortAddresses: null
            oomScoreAdj: null
            portRange: ""
            showHiddenMetricsForVersion: ""
            winkernel:
              enableDSR: false
              forwardHealthCheckVip: false
              networkName: ""
              rootHnsEndpointName: ""
              sourceVip: ""
            """;

    /** kubeadm's kubeconfig.conf: the pod's service-account token file (the CA is left out: plain HTTP here). */
    private static final String TOKEN_FILE = "tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token";

    private static final String TOKEN = "e2e-service-account-token";

    private static Path root;
    private static Path work;
    private static Network network;
    private static KubernetesMockServer api;
    private static NamespacedKubernetesClient apiClient;
    private static final Map<String, GenericContainer<?>> containers = new LinkedHashMap<>();
    private static final Map<String, String> ips = new LinkedHashMap<>();

    @RegisterExtension
    static final TestWatcher showLogsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            System.err.println(state());
        }
    };

    @BeforeAll
    static void start() throws IOException {
        String uid = Proc.run(List.of("id", "-u")).out().strip();
        Assumptions.assumeTrue("0".equals(uid),
                "the multi-node test runs privileged containers and builds images as root (uid is " + uid + ")");
        Assumptions.assumeTrue(DockerClientFactory.instance().isDockerAvailable(),
                "no Docker engine answers (start dockerd; .ci/run does)");
        Path jar = Path.of(System.getProperty("ferry.proxyJar", "target/proxy.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), jar + " is missing: run the package phase first (mvn verify does)");
        root = jar.getParent().getParent().getParent();
        buildImages();
        try {
            startCluster();
        } catch (RuntimeException | Error e) {
            System.err.println(state()); // no test has run, so the watcher below would not show it
            throw e;
        }
    }

    /** The base images once per machine (a few minutes), the proxy image from this build's jar (seconds). */
    private static void buildImages() {
        Proc.Result base = Proc.run(Duration.ofMinutes(15),
                List.of(root.resolve("deploy/image/build-base.sh").toString(), BASE_IMAGE));
        assertTrue(base.ok(), () -> "building the base image failed: " + base.describe());
        Proc.Result proxy = Proc.run(Duration.ofMinutes(5), List.of("docker", "build", "-q",
                "--build-arg", "BASE_IMAGE=" + TEST_BASE_IMAGE,
                "-f", root.resolve("deploy/Dockerfile").toString(), "-t", PROXY_IMAGE, root.toString()));
        assertTrue(proxy.ok(), () -> "docker build of deploy/Dockerfile failed: " + proxy.describe());
    }

    /**
     * node-1 is installed the deploy/ way: the DaemonSet's own command line and the ConfigMap's
     * config.conf at /var/lib/kube-proxy, Services from --manifests (our addition; no API server).
     * node-2 the kubeadm way, only the image swapped: /usr/local/bin/kube-proxy --config
     * --hostname-override, kubeadm's config.conf naming kubeadm's kubeconfig.conf, whose user
     * authenticates with the service-account token file; the API server is fabric8's mock, in this
     * JVM, on the test network's gateway address.
     */
    private static void startCluster() throws IOException {
        work = Files.createTempDirectory("fy-multinode-");
        network = Network.newNetwork();
        String gateway = DockerClientFactory.instance().client().inspectNetworkCmd().withNetworkId(network.getId())
                .exec().getIpam().getConfig().get(0).getGateway();
        api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        api.init(InetAddress.getByName(gateway), 0);
        apiClient = api.createClient();

        for (int n = 1; n <= 2; n++) {
            // Answers each connection with its name and the address the connection came from.
            start("backend-" + n, new GenericContainer<>(DockerImageName.parse(TEST_BASE_IMAGE))
                    .withCommand("socat", "TCP-LISTEN:" + TARGET_PORT + ",fork,reuseaddr",
                            "SYSTEM:echo backend-" + n + " $SOCAT_PEERADDR"));
        }

        Path manifests = Files.createDirectory(work.resolve("manifests"));
        Path deployConfig = Files.createDirectory(work.resolve("deploy-config"));
        Files.writeString(deployConfig.resolve("config.conf"), deployManifest("kube-proxy-configmap.yaml", ConfigMap.class)
                .getData().get("config.conf"));
        List<String> daemonSetCommand = deployManifest("daemonset.yaml", DaemonSet.class)
                .getSpec().getTemplate().getSpec().getContainers().get(0).getCommand();
        List<String> node1Command = new ArrayList<>();
        daemonSetCommand.forEach(arg -> node1Command.add(arg.replace("$(NODE_NAME)", "node-1")));
        node1Command.add("--manifests=/manifests");
        start("node-1", node("node-1", node1Command)
                .withFileSystemBind(deployConfig.toString(), "/var/lib/kube-proxy", BindMode.READ_ONLY)
                .withFileSystemBind(manifests.toString(), "/manifests", BindMode.READ_ONLY));

        Path kubeadmConfig = Files.createDirectory(work.resolve("kubeadm-config"));
        Files.writeString(kubeadmConfig.resolve("config.conf"), KUBEADM_CONFIG_CONF);
        Files.writeString(kubeadmConfig.resolve("kubeconfig.conf"),
                Kubeconfigs.kubeadm("http://" + gateway + ":" + api.getPort(), TOKEN_FILE));
        Path token = Files.writeString(work.resolve("token"), TOKEN);
        start("node-2", node("node-2", List.of("/usr/local/bin/kube-proxy",
                        "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=node-2"))
                .withFileSystemBind(kubeadmConfig.toString(), "/var/lib/kube-proxy", BindMode.READ_ONLY)
                .withFileSystemBind(token.toString(), "/var/run/secrets/kubernetes.io/serviceaccount/token",
                        BindMode.READ_ONLY));

        publish(new Manifests(manifests));
    }

    private static GenericContainer<?> node(String name, List<String> command) {
        return new GenericContainer<>(DockerImageName.parse(PROXY_IMAGE))
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withHostName(name);
                    cmd.getHostConfig().withCapAdd(Capability.NET_ADMIN, Capability.NET_RAW).withSysctls(NODE_SYSCTLS);
                })
                .withCommand(command.toArray(String[]::new));
    }

    private static <T> T deployManifest(String file, Class<T> type) throws IOException {
        try (var in = Files.newInputStream(root.resolve("deploy").resolve(file))) {
            return new KubernetesSerialization().unmarshal(in, type);
        }
    }

    private static void start(String name, GenericContainer<?> container) {
        containers.put(name, container.withNetwork(network).withNetworkAliases(name));
        container.start();
        String ip = container.getContainerInfo().getNetworkSettings().getNetworks().values().iterator().next().getIpAddress();
        ips.put(name, ip);
    }

    /**
     * The cluster, to the manifests directory (node-1) and the API server (node-2): the Nodes, a
     * NodePort Service, and its slice with one endpoint per node.
     */
    private static void publish(Manifests manifests) {
        Manifests.Port http = new Manifests.Port("http", PORT, TARGET_PORT, "TCP");
        List<String> objects = new ArrayList<>();
        for (int n = 1; n <= 2; n++) {
            objects.add(Manifests.node("node-" + n) + """
                    status:
                      addresses:
                      - type: InternalIP
                        address: "%s"
                    """.formatted(ips.get("node-" + n)));
        }
        objects.add(new Manifests.Svc("web").type("NodePort").clusterIps(CLUSTER_IP).port(http, NODE_PORT).yaml());
        objects.add(Manifests.slice("web", "web-1", List.of(http), "IPv4", List.of(
                new Manifests.Ep(ips.get("backend-1"), "node-1"),
                new Manifests.Ep(ips.get("backend-2"), "node-2"))));
        manifests.write("cluster.yaml", String.join("---\n", objects));
        for (String yaml : objects) {
            HasMetadata object = apiClient.getKubernetesSerialization().unmarshal(yaml);
            apiClient.resource(object).create();
        }
    }

    @AfterAll
    static void stop() throws IOException {
        List<String> names = new ArrayList<>(containers.keySet());
        java.util.Collections.reverse(names);
        for (String name : names) {
            containers.get(name).stop(); // kills and removes the container
        }
        containers.clear();
        if (network != null) {
            network.close();
        }
        if (apiClient != null) {
            apiClient.close();
        }
        if (api != null) {
            api.destroy();
        }
        if (work != null) {
            try (Stream<Path> files = Files.walk(work)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void aClientOnNode1ReachesBackendsOnBothNodesThroughTheClusterIp() {
        Map<String, String> seen = awaitBoth("node-1", CLUSTER_IP, PORT);
        // Node-local traffic to a ClusterIP keeps the node's source address (nothing to undo on the way back).
        assertEquals(Map.of("backend-1", ips.get("node-1"), "backend-2", ips.get("node-1")), seen,
                "backend -> the client address it saw");
    }

    @Test
    void aClientOnNode2ReachesBackendsOnBothNodesThroughTheClusterIp() {
        Map<String, String> seen = awaitBoth("node-2", CLUSTER_IP, PORT);
        assertEquals(Set.of("backend-1", "backend-2"), seen.keySet());
    }

    @Test
    void aClientOnNode1ReachesBackendsOnBothNodesThroughNode2sNodePort() {
        Map<String, String> seen = awaitBoth("node-1", ips.get("node-2"), NODE_PORT);
        // node-2's proxy programmed the NodePort and masqueraded the outside client behind node-2's address,
        // so the backend's answer goes back through node-2 (else node-1 would drop it).
        assertEquals(Map.of("backend-1", ips.get("node-2"), "backend-2", ips.get("node-2")), seen,
                "backend -> the client address it saw");
    }

    /** node-2's proxy listed and watched the API with the token from kubeadm's kubeconfig's tokenFile. */
    @Test
    void node2WatchesTheApiWithTheServiceAccountTokenFile() throws InterruptedException {
        awaitBoth("node-2", CLUSTER_IP, PORT);
        List<String> gets = new ArrayList<>();
        for (RecordedRequest r; (r = api.takeRequest(1, TimeUnit.MILLISECONDS)) != null; ) {
            if (r.getMethod().equals("GET")) { // this test's own client only creates
                gets.add(r.getPath() + " " + r.getHeader("Authorization"));
            }
        }
        assertTrue(gets.stream().anyMatch(g -> g.startsWith("/apis/discovery.k8s.io/v1/endpointslices")), () -> "" + gets);
        assertTrue(gets.stream().allMatch(g -> g.endsWith(" Bearer " + TOKEN)), () -> "" + gets);
    }

    /**
     * The image's iptables commands take the node's backend (deploy/image/iptables-wrapper): nft
     * on the test's fresh nodes, legacy where the kubelet's hint chain is in legacy's mangle table.
     */
    @Test
    void theImagesIptablesFollowsTheNodesBackend() throws Exception {
        assertTrue(exec("node-1", "iptables", "--version").getStdout().contains("nf_tables"),
                "a node without legacy rules uses nft");
        try (GenericContainer<?> legacyNode = new GenericContainer<>(DockerImageName.parse(PROXY_IMAGE))
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withCapAdd(Capability.NET_ADMIN, Capability.NET_RAW))
                .withCommand("sleep", "infinity")) {
            legacyNode.start();
            ExecResult hint = legacyNode.execInContainer("iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT");
            assertEquals(0, hint.getExitCode(), () -> describe(hint));
            ExecResult save = legacyNode.execInContainer("iptables-save", "-t", "mangle");
            assertTrue(save.getStdout().contains(":KUBE-IPTABLES-HINT"), () -> "iptables-save read legacy: " + describe(save));
            assertTrue(legacyNode.execInContainer("iptables", "--version").getStdout().contains("legacy"));
        }
    }

    private static ExecResult exec(String container, String... argv) throws IOException, InterruptedException {
        return containers.get(container).execInContainer(argv);
    }

    /**
     * Connects from {@code node} until the proxy has synced (first answer), then {@value #TRIES}
     * times more; every try must answer, and both backends must answer (the chance that random
     * 50/50 selection misses one in 40 tries is 2^-39). Returns backend name -> peer address seen.
     */
    private static Map<String, String> awaitBoth(String node, String ip, int port) {
        Wait.until(node + " -> " + ip + ":" + port + " answers (the proxies have synced)", SYNCED,
                () -> connect(node, ip, port), r -> r.getExitCode() == 0 && r.getStdout().startsWith("backend-"),
                MultiNodeIT::describe);
        Map<String, String> seen = new java.util.TreeMap<>();
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < TRIES; i++) {
            ExecResult r = connect(node, ip, port);
            assertTrue(r.getExitCode() == 0 && r.getStdout().startsWith("backend-"),
                    () -> "try " + answers.size() + " from " + node + " to " + ip + ":" + port + " failed: " + describe(r));
            String[] words = r.getStdout().strip().split(" ");
            assertEquals(2, words.length, () -> "answer: " + r.getStdout());
            answers.add(words[0]);
            String before = seen.putIfAbsent(words[0], words[1]);
            assertTrue(before == null || before.equals(words[1]),
                    () -> words[0] + " saw two client addresses: " + before + " and " + words[1]);
        }
        assertEquals(Set.of("backend-1", "backend-2"), new TreeSet<>(answers),
                "from " + node + " to " + ip + ":" + port + ", answers " + answers);
        return seen;
    }

    private static ExecResult connect(String node, String ip, int port) {
        try {
            return containers.get(node).execInContainer("socat", "-T", "5", "-t", "5", "STDIO",
                    "TCP:" + ip + ":" + port + ",connect-timeout=2");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String describe(ExecResult r) {
        return "exit " + r.getExitCode() + ", stdout: " + r.getStdout().strip() + ", stderr: " + r.getStderr().strip();
    }

    /** Every container's address and log, and each node's nat table: printed when a test fails. */
    private static String state() {
        StringBuilder b = new StringBuilder("---- multi-node state ----\naddresses: ").append(ips).append('\n');
        containers.forEach((name, c) -> {
            if (!c.isRunning()) {
                b.append("== ").append(name).append(": not running\n");
            }
            b.append("== ").append(name).append(" log:\n").append(c.getLogs());
            if (name.startsWith("node-") && c.isRunning()) {
                try {
                    b.append("== ").append(name).append(" iptables-save -t nat:\n")
                            .append(c.execInContainer("iptables-save", "-t", "nat").getStdout());
                } catch (IOException | InterruptedException | RuntimeException e) {
                    b.append("(iptables-save failed: ").append(e).append(")\n");
                }
            }
        });
        return b.toString();
    }
}
