package dev.ferry.proxy.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/'s manifests, read with fabric8's model as the API server would take them, hold what
 * a kube-proxy replacement needs: every node, host network, privileges, the xtables lock and
 * kernel modules, a KubeProxyConfiguration with upstream's field names, a command line our
 * flag parser accepts, and RBAC that grants exactly what the proxy uses.
 */
class DeployManifestsTest {

    /** Upstream's v1alpha1 KubeProxyConfiguration fields (types.go, 1.23 to 1.31), as dotted paths. */
    private static final Set<String> UPSTREAM_FIELDS = Set.of(
            "apiVersion", "kind", "featureGates", "hostnameOverride", "bindAddress", "healthzBindAddress",
            "metricsBindAddress", "bindAddressHardFail", "enableProfiling", "showHiddenMetricsForVersion", "mode",
            "detectLocalMode", "clusterCIDR", "nodePortAddresses", "oomScoreAdj", "configSyncPeriod", "portRange",
            "udpIdleTimeout", "windowsRunAsService", "logging",
            "clientConnection", "clientConnection.kubeconfig", "clientConnection.acceptContentTypes",
            "clientConnection.contentType", "clientConnection.qps", "clientConnection.burst",
            "iptables", "iptables.masqueradeBit", "iptables.masqueradeAll", "iptables.localhostNodePorts",
            "iptables.syncPeriod", "iptables.minSyncPeriod",
            "ipvs", "ipvs.syncPeriod", "ipvs.minSyncPeriod", "ipvs.scheduler", "ipvs.excludeCIDRs", "ipvs.strictARP",
            "ipvs.tcpTimeout", "ipvs.tcpFinTimeout", "ipvs.udpTimeout",
            "nftables", "nftables.masqueradeBit", "nftables.masqueradeAll", "nftables.syncPeriod",
            "nftables.minSyncPeriod",
            "conntrack", "conntrack.maxPerCore", "conntrack.min", "conntrack.tcpEstablishedTimeout",
            "conntrack.tcpCloseWaitTimeout", "conntrack.tcpBeLiberal", "conntrack.udpTimeout",
            "conntrack.udpStreamTimeout",
            "detectLocal", "detectLocal.bridgeInterface", "detectLocal.interfaceNamePrefix",
            "winkernel", "winkernel.networkName", "winkernel.sourceVip", "winkernel.enableDSR",
            "winkernel.rootHnsEndpointName", "winkernel.forwardHealthCheckVip");

    private static final String CONFIG_DIR = "/var/lib/kube-proxy";
    /** kubeadm's command: in our image, it runs the jar. */
    private static final String LAUNCHER = "/usr/local/bin/kube-proxy";

    private static Path deploy;
    private static List<HasMetadata> objects;

    @BeforeAll
    static void load() throws IOException {
        deploy = repositoryRoot().resolve("deploy");
        KubernetesSerialization serialization = new KubernetesSerialization();
        objects = new ArrayList<>();
        for (String file : manifestFiles()) {
            try (InputStream in = Files.newInputStream(deploy.resolve(file))) {
                Object parsed = serialization.unmarshal(in);
                if (parsed instanceof List<?> list) {
                    list.forEach(o -> objects.add((HasMetadata) o));
                } else {
                    objects.add((HasMetadata) parsed);
                }
            }
        }
    }

    /** The manifests kustomization.yaml lists; the test below checks that these are all of them. */
    private static List<String> manifestFiles() throws IOException {
        JsonNode k = new ObjectMapper(new YAMLFactory()).readTree(deploy.resolve("kustomization.yaml").toFile());
        List<String> out = new ArrayList<>();
        k.path("resources").forEach(r -> out.add(r.asText()));
        return out;
    }

    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("deploy/daemonset.yaml"))) {
                return p;
            }
        }
        throw new AssertionError("no deploy/daemonset.yaml above " + Path.of("").toAbsolutePath());
    }

    private static <T extends HasMetadata> T only(Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        assertEquals(1, found.size(), "exactly one " + type.getSimpleName() + " in deploy/, got " + found.size());
        return found.get(0);
    }

    private static DaemonSet daemonSet() {
        return only(DaemonSet.class);
    }

    private static PodSpec pod() {
        return daemonSet().getSpec().getTemplate().getSpec();
    }

    private static Container container() {
        List<Container> containers = pod().getContainers();
        assertEquals(1, containers.size(), "one container");
        return containers.get(0);
    }

    @Test
    void kustomizationListsEveryManifestAndEachIsATypedObject() throws IOException {
        Set<String> yamls;
        try (Stream<Path> files = Files.list(deploy)) {
            yamls = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml"))
                    .filter(n -> !n.equals("kustomization.yaml")).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(yamls, new TreeSet<>(manifestFiles()), "kustomization.yaml resources vs deploy/*.yaml");
        Set<String> kinds = objects.stream().map(o -> o.getClass().getSimpleName()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(List.of("ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "ServiceAccount")),
                kinds, "fabric8 typed every document (a typo in apiVersion/kind would give a generic resource)");
        assertEquals(5, objects.size());
        for (HasMetadata o : objects) {
            boolean clusterScoped = o instanceof ClusterRole || o instanceof ClusterRoleBinding;
            assertEquals(clusterScoped ? null : "kube-system", o.getMetadata().getNamespace(), o.getKind() + " namespace");
        }
    }

    @Test
    void daemonSetIsKubeadmsKubeProxyShape() {
        DaemonSet ds = daemonSet();
        assertEquals("kube-proxy", ds.getMetadata().getName());
        assertEquals(Map.of("k8s-app", "kube-proxy"), ds.getMetadata().getLabels());
        assertEquals(Map.of("k8s-app", "kube-proxy"), ds.getSpec().getSelector().getMatchLabels());
        assertEquals(ds.getSpec().getSelector().getMatchLabels(), ds.getSpec().getTemplate().getMetadata().getLabels(),
                "the selector picks the template's pods");
        assertEquals("RollingUpdate", ds.getSpec().getUpdateStrategy().getType());
        PodSpec pod = pod();
        assertEquals(Boolean.TRUE, pod.getHostNetwork(), "hostNetwork: the rules live in the node's namespace");
        assertEquals("system-node-critical", pod.getPriorityClassName());
        assertEquals(only(ServiceAccount.class).getMetadata().getName(), pod.getServiceAccountName());
        assertEquals(Map.of("kubernetes.io/os", "linux"), pod.getNodeSelector());
        assertEquals("Default", pod.getDnsPolicy(), "the node's resolver: cluster DNS is a Service this pod programs");
    }

    @Test
    void toleratesEveryTaint() {
        List<Toleration> tolerations = pod().getTolerations();
        assertEquals(1, tolerations.size(), "one toleration: " + tolerations);
        Toleration t = tolerations.get(0);
        assertEquals("Exists", t.getOperator());
        assertNull(t.getKey(), "no key: every taint");
        assertNull(t.getEffect(), "no effect: NoSchedule and NoExecute alike");
        assertNull(t.getTolerationSeconds(), "never evicted");
    }

    @Test
    void runsPrivileged() {
        assertEquals(Boolean.TRUE, container().getSecurityContext().getPrivileged(),
                "privileged: sysctl writes need a writable /proc/sys");
    }

    @Test
    void mountsTheXtablesLockModulesAndConfig() {
        Map<String, Volume> volumes = pod().getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
        Map<String, VolumeMount> mounts = container().getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getMountPath, m -> m));
        assertEquals(Set.of("/run/xtables.lock", "/lib/modules", CONFIG_DIR), mounts.keySet());

        VolumeMount lock = mounts.get("/run/xtables.lock");
        assertFalse(Boolean.TRUE.equals(lock.getReadOnly()), "iptables takes the lock for writing");
        Volume lockVolume = volumes.get(lock.getName());
        assertEquals("/run/xtables.lock", lockVolume.getHostPath().getPath());
        assertEquals("FileOrCreate", lockVolume.getHostPath().getType(), "a file, created if the node has none yet");

        VolumeMount modules = mounts.get("/lib/modules");
        assertEquals(Boolean.TRUE, modules.getReadOnly());
        assertEquals("/lib/modules", volumes.get(modules.getName()).getHostPath().getPath());

        VolumeMount config = mounts.get(CONFIG_DIR);
        ConfigMap cm = only(ConfigMap.class);
        assertEquals(cm.getMetadata().getName(), volumes.get(config.getName()).getConfigMap().getName());
        assertEquals(volumes.keySet(), mounts.values().stream().map(VolumeMount::getName).collect(Collectors.toSet()),
                "no unused volume");
    }

    @Test
    void commandIsKubeadmsAndRunsOurJarWithTheImagesJvmOptions() throws IOException {
        Container c = container();
        assertTrue(c.getArgs() == null || c.getArgs().isEmpty(), "the whole command line is in command, as kubeadm's");
        assertEquals(List.of(LAUNCHER, "--config=" + CONFIG_DIR + "/config.conf", "--hostname-override=$(NODE_NAME)"),
                c.getCommand());
        EnvVar node = c.getEnv().stream().filter(e -> e.getName().equals("NODE_NAME")).findFirst().orElseThrow();
        assertEquals("spec.nodeName", node.getValueFrom().getFieldRef().getFieldPath());
        String dockerfile = Files.readString(deploy.resolve("Dockerfile"));
        assertTrue(dockerfile.contains("COPY deploy/image/kube-proxy " + LAUNCHER), "the image has the launcher");
        assertTrue(dockerfile.contains("COPY deploy/image/jvm.options /opt/ferry/jvm.options"));
        assertTrue(dockerfile.contains("COPY proxy/target/proxy.jar /opt/ferry/proxy.jar"));
        String launcher = Files.readString(deploy.resolve("image/kube-proxy"));
        assertTrue(launcher.contains("exec java @/opt/ferry/jvm.options ${FERRY_JAVA_OPTIONS:-} -jar /opt/ferry/proxy.jar \"$@\""),
                "the launcher runs the jar with the image's JVM options, then the operator's, then the arguments:\n" + launcher);
        assertTrue(Files.isExecutable(deploy.resolve("image/kube-proxy")));
    }

    /**
     * The heap follows the container's memory limit (a share of it, no fixed -Xmx), an
     * OutOfMemoryError ends the process so that the kubelet restarts it, and the class data sharing
     * archive the JVM maps is the one the Dockerfile makes.
     */
    @Test
    void jvmOptionsSizeTheHeapByTheContainersLimit() throws IOException {
        List<String> options = Files.readAllLines(deploy.resolve("image/jvm.options")).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertTrue(options.stream().noneMatch(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxHeapSize")), "" + options);
        String share = options.stream().filter(o -> o.startsWith("-XX:MaxRAMPercentage=")).findFirst().orElseThrow();
        double percent = Double.parseDouble(share.substring(share.indexOf('=') + 1));
        assertTrue(percent >= 30 && percent <= 60,
                "room beside the heap for the JVM's own memory and a full sync's iptables-restore: " + share);
        assertTrue(options.contains("-XX:+ExitOnOutOfMemoryError"));
        String archive = options.stream().filter(o -> o.startsWith("-XX:SharedArchiveFile=")).findFirst().orElseThrow();
        assertTrue(Files.readString(deploy.resolve("Dockerfile")).contains(archive.substring(archive.indexOf('=') + 1)),
                "the Dockerfile makes " + archive);
    }

    /** Requests for scheduling, a memory limit the heap follows, no CPU limit; liveness on /livez, as issue 13 asks. */
    @Test
    void resourcesAndLivenessProbe() throws IOException {
        Container c = container();
        Map<String, Quantity> requests = c.getResources().getRequests();
        Map<String, Quantity> limits = c.getResources().getLimits();
        assertEquals(Set.of("cpu", "memory"), requests.keySet());
        assertEquals(Set.of("memory"), limits.keySet(), "no CPU limit: throttling only makes syncs late");
        assertTrue(Quantity.getAmountInBytes(requests.get("memory"))
                .compareTo(Quantity.getAmountInBytes(limits.get("memory"))) < 0);

        Probe live = c.getLivenessProbe();
        assertNotNull(live, "a liveness probe");
        assertEquals("/livez", live.getHttpGet().getPath());
        JsonNode config = new ObjectMapper(new YAMLFactory()).readTree(only(ConfigMap.class).getData().get("config.conf"));
        String healthz = config.path("healthzBindAddress").asText();
        assertEquals(healthz.substring(healthz.lastIndexOf(':') + 1), live.getHttpGet().getPort().getValue().toString(),
                "the probe asks the health server's port");
        assertTrue(live.getPeriodSeconds() * live.getFailureThreshold() >= 60, "a slow sync is not a dead proxy");
        assertNull(c.getReadinessProbe(), "upstream's DaemonSets have no readiness probe");
    }

    /** docker build's context is the repository root, cut down by .dockerignore to what the Dockerfile copies. */
    @Test
    void dockerignoreKeepsExactlyWhatTheDockerfileCopies() throws IOException {
        Set<String> copied = new TreeSet<>();
        for (String line : Files.readAllLines(deploy.resolve("Dockerfile"))) {
            String[] words = line.strip().split("\\s+");
            if (words[0].equals("COPY")) {
                copied.addAll(List.of(words).subList(1, words.length - 1));
            }
        }
        List<String> ignore = Files.readAllLines(deploy.getParent().resolve(".dockerignore")).stream()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertEquals("*", ignore.get(0), "everything is left out first");
        assertEquals(copied, ignore.subList(1, ignore.size()).stream().map(l -> l.substring(1))
                .collect(Collectors.toCollection(TreeSet::new)), "the exceptions (!path) are the COPY sources");
        assertTrue(Files.isExecutable(deploy.resolve("image/iptables-wrapper")));
        assertTrue(Files.isExecutable(deploy.resolve("image/build-base.sh")));
        assertTrue(Files.isRegularFile(deploy.resolve("image/java-modules")), "build-base.sh reads the runtime's modules");
    }

    /**
     * The container's command line, after the kubelet's $(VAR) expansion, is accepted by our
     * flag parser; --config points at the ConfigMap's config.conf written to a file. ProxyOptions is
     * package-private in dev.ferry.proxy, so it is reached by reflection.
     */
    @Test
    void ourFlagParserAcceptsTheCommand(@TempDir Path dir) throws Exception {
        Container c = container();
        Map<String, String> env = c.getEnv().stream().filter(e -> e.getValueFrom() != null)
                .collect(Collectors.toMap(EnvVar::getName, e -> "node-a"));
        Path configFile = Files.writeString(dir.resolve("config.conf"), only(ConfigMap.class).getData().get("config.conf"));

        Class<?> type = Class.forName("dev.ferry.proxy.ProxyOptions");
        Constructor<?> ctor = type.getDeclaredConstructor();
        ctor.setAccessible(true);
        Object options = ctor.newInstance();
        Method commandLine = type.getDeclaredMethod("commandLine");
        commandLine.setAccessible(true);
        CommandLine cli = (CommandLine) commandLine.invoke(options);
        boolean hasConfig = cli.getCommandSpec().findOption("--config") != null;

        List<String> args = new ArrayList<>();
        for (String arg : c.getCommand().subList(1, c.getCommand().size())) {
            String expanded = expand(arg, env);
            if (expanded.startsWith("--config=")) {
                if (!hasConfig) {
                    continue; // --config is being added (issue 6); the rest must parse today
                }
                expanded = "--config=" + configFile;
            }
            args.add(expanded);
        }
        cli.parseArgs(args.toArray(String[]::new));
        Method validate = type.getDeclaredMethod("validate");
        validate.setAccessible(true);
        validate.invoke(options);
        Field hostname = type.getDeclaredField("hostnameOverride");
        hostname.setAccessible(true);
        assertEquals("node-a", hostname.get(options));
    }

    /** The kubelet's expansion of $(NAME) in a command; an unknown name would stay as written, which we refuse. */
    private static String expand(String arg, Map<String, String> env) {
        Matcher m = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)").matcher(arg);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.get(m.group(1));
            assertNotNull(value, arg + ": $(" + m.group(1) + ") is not an env var of the container");
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        return m.appendTail(out).toString();
    }

    @Test
    void rbacGrantsExactlyWhatTheProxyUses() {
        ClusterRole role = only(ClusterRole.class);
        Set<String> granted = new TreeSet<>();
        for (PolicyRule rule : role.getRules()) {
            assertTrue(rule.getResourceNames() == null || rule.getResourceNames().isEmpty(), "no resourceNames");
            assertTrue(rule.getNonResourceURLs() == null || rule.getNonResourceURLs().isEmpty(), "no nonResourceURLs");
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        granted.add((group.isEmpty() ? "core" : group) + "/" + resource + ":" + verb);
                    }
                }
            }
        }
        assertFalse(granted.stream().anyMatch(g -> g.contains("*")), "no wildcards: " + granted);
        assertFalse(granted.stream().anyMatch(g -> g.contains("secrets")), "no secrets: " + granted);
        // list+watch: ApiSource's informers (the Node by a field selector, so no get);
        // create+patch: the event recorder, in either events API.
        assertEquals(new TreeSet<>(List.of(
                "core/services:list", "core/services:watch",
                "core/nodes:list", "core/nodes:watch",
                "discovery.k8s.io/endpointslices:list", "discovery.k8s.io/endpointslices:watch",
                "core/events:create", "core/events:patch",
                "events.k8s.io/events:create", "events.k8s.io/events:patch")), granted);

        ClusterRoleBinding binding = only(ClusterRoleBinding.class);
        assertEquals("ClusterRole", binding.getRoleRef().getKind());
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        assertEquals(1, binding.getSubjects().size());
        Subject subject = binding.getSubjects().get(0);
        ServiceAccount sa = only(ServiceAccount.class);
        assertEquals("ServiceAccount", subject.getKind());
        assertEquals(sa.getMetadata().getName(), subject.getName());
        assertEquals(sa.getMetadata().getNamespace(), subject.getNamespace());
    }

    @Test
    void configMapHoldsAKubeProxyConfigurationWithUpstreamsFields() throws IOException {
        ConfigMap cm = only(ConfigMap.class);
        assertEquals("kube-proxy", cm.getMetadata().getName(), "kubeadm's name, so its DaemonSet can mount ours");
        assertEquals(Set.of("config.conf"), cm.getData().keySet());
        JsonNode config = new ObjectMapper(new YAMLFactory()).readTree(cm.getData().get("config.conf"));
        assertInstanceOf(com.fasterxml.jackson.databind.node.ObjectNode.class, config);
        assertEquals("kubeproxy.config.k8s.io/v1alpha1", config.path("apiVersion").asText());
        assertEquals("KubeProxyConfiguration", config.path("kind").asText());

        Set<String> paths = new TreeSet<>();
        collectPaths("", config, paths);
        Set<String> unknown = new TreeSet<>(paths);
        unknown.removeAll(UPSTREAM_FIELDS);
        assertEquals(Set.of(), unknown, "fields upstream does not have");

        assertEquals("", config.path("clientConnection").path("kubeconfig").asText(),
                "empty: fabric8 uses the pod's service account");
        assertTrue(Set.of("iptables", "ipvs", "userspace").contains(config.path("mode").asText()));
        assertEquals("0.0.0.0:10256", config.path("healthzBindAddress").asText());
        assertEquals("127.0.0.1:10249", config.path("metricsBindAddress").asText());
        assertEquals(14, config.path("iptables").path("masqueradeBit").asInt());
        assertEquals("30s", config.path("iptables").path("syncPeriod").asText());
        assertEquals("1s", config.path("iptables").path("minSyncPeriod").asText());
    }

    private static void collectPaths(String prefix, JsonNode node, Set<String> out) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            out.add(path);
            boolean freeForm = path.equals("featureGates") || path.equals("logging");
            if (e.getValue().isObject() && !freeForm) {
                collectPaths(path, e.getValue(), out);
            }
        }
    }
}
