package dev.ferry.proxy.config;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.mode.ConfigField;
import dev.ferry.proxy.Main;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --config and --write-config-to through the whole command line (Main.run in this JVM; both exit
 * before any backend is built, so nothing is touched). The effective options are compared
 * through what --write-config-to writes.
 */
class ConfigFileMainTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @TempDir
    Path dir;
    private Path kubeconfig;

    record Run(int status, String out, String err) {
    }

    @BeforeEach
    void kubeconfig() throws IOException {
        kubeconfig = Files.writeString(dir.resolve("kubeconfig"), "apiVersion: v1\nkind: Config\n");
    }

    /**
     * Main.run with {@code args}; a --write-config-to is added when they have none, so that a run
     * expected to fail but accepted writes a file and exits instead of starting the proxy.
     */
    Run run(String... args) {
        if (Stream.of(args).noneMatch(a -> a.startsWith("--write-config-to"))) {
            args = Stream.concat(Stream.of(args), Stream.of("--write-config-to=" + dir.resolve("guard-" + System.nanoTime())))
                    .toArray(String[]::new);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new CountDownLatch(1));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs with {@code args} plus --write-config-to; returns what was written. */
    String effective(String... args) {
        Path target = dir.resolve("effective-" + System.nanoTime() + ".yaml");
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--write-config-to=" + target);
        Run r = run(all.toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        try {
            return Files.readString(target);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path file(String body) throws IOException {
        return Files.writeString(dir.resolve("config-" + System.nanoTime() + ".yaml"),
                KubeProxyConfigFileTest.HEAD + body);
    }

    static JsonNode at(String yaml, String path) {
        try {
            JsonNode n = YAML.readTree(yaml);
            for (String part : path.split("\\.")) {
                n = n.path(part);
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The same option set by a flag and by the field of the file, with a value other than the default. */
    static Stream<Arguments> everySupportedField() {
        return Stream.of(
                Arguments.of("clientConnection.kubeconfig", "KUBECONFIG", "--kubeconfig=KUBECONFIG"),
                Arguments.of("hostnameOverride", "node-7", "--hostname-override=node-7"),
                Arguments.of("bindAddress", "10.0.0.5", "--bind-address=10.0.0.5"),
                Arguments.of("healthzBindAddress", "127.0.0.1:12345", "--healthz-bind-address=127.0.0.1:12345"),
                Arguments.of("metricsBindAddress", "\"[::]:10249\"", "--metrics-bind-address=[::]:10249"),
                Arguments.of("mode", "ipvs", "--proxy-mode=ipvs"),
                Arguments.of("iptables.masqueradeBit", "13", "--iptables-masquerade-bit=13"),
                Arguments.of("iptables.masqueradeAll", "true", "--masquerade-all"),
                Arguments.of("iptables.localhostNodePorts", "false", "--iptables-localhost-nodeports=false"),
                Arguments.of("iptables.syncPeriod", "45s", "--iptables-sync-period=45s"),
                Arguments.of("iptables.minSyncPeriod", "2s", "--iptables-min-sync-period=2s"),
                Arguments.of("ipvs.syncPeriod", "1m", "--ipvs-sync-period=60s"),
                Arguments.of("ipvs.minSyncPeriod", "5s", "--ipvs-min-sync-period=5s"),
                Arguments.of("ipvs.scheduler", "lc", "--ipvs-scheduler=lc"),
                Arguments.of("ipvs.excludeCIDRs", "[10.1.0.0/16, 10.2.0.0/16]", "--ipvs-exclude-cidrs=10.1.0.0/16,10.2.0.0/16"),
                Arguments.of("ipvs.strictARP", "true", "--ipvs-strict-arp"),
                Arguments.of("ipvs.tcpTimeout", "900s", "--ipvs-tcp-timeout=15m"),
                Arguments.of("ipvs.tcpFinTimeout", "30s", "--ipvs-tcpfin-timeout=30s"),
                Arguments.of("ipvs.udpTimeout", "10s", "--ipvs-udp-timeout=10s"),
                Arguments.of("portRange", "30000-30100", "--proxy-port-range=30000-30100"),
                Arguments.of("udpIdleTimeout", "1s", "--udp-timeout=1s"),
                Arguments.of("clusterCIDR", "10.244.0.0/16,fd00:10:244::/56", "--cluster-cidr=10.244.0.0/16,fd00:10:244::/56"),
                Arguments.of("detectLocalMode", "NodeCIDR", "--detect-local-mode=NodeCIDR"),
                Arguments.of("detectLocal.bridgeInterface", "cbr0", "--pod-bridge-interface=cbr0"),
                Arguments.of("detectLocal.interfaceNamePrefix", "veth", "--pod-interface-name-prefix=veth"),
                Arguments.of("nodePortAddresses", "[192.168.0.0/16, primary]", "--nodeport-addresses=192.168.0.0/16,primary"),
                Arguments.of("conntrack.tcpEstablishedTimeout", "1h", "--conntrack-tcp-timeout-established=1h"),
                Arguments.of("conntrack.maxPerCore", "0", "--conntrack-max-per-core=0"),
                Arguments.of("conntrack.min", "262144", "--conntrack-min=262144"),
                Arguments.of("conntrack.tcpCloseWaitTimeout", "0s", "--conntrack-tcp-timeout-close-wait=0"),
                Arguments.of("conntrack.tcpBeLiberal", "true", "--conntrack-tcp-be-liberal"),
                Arguments.of("conntrack.udpTimeout", "30s", "--conntrack-udp-timeout=30s"),
                Arguments.of("conntrack.udpStreamTimeout", "2m", "--conntrack-udp-timeout-stream=120s"),
                Arguments.of("oomScoreAdj", "-500", "--oom-score-adj=-500"),
                Arguments.of("logging.format", "json", "--logging-format=json"),
                Arguments.of("logging.verbosity", "3", "--v=3"),
                Arguments.of("logging.flushFrequency", "1000000000", "--log-flush-frequency=1s"),
                Arguments.of("logging.vmodule", "[{filePattern: proxier, verbosity: 4}]", "--vmodule=proxier=4"),
                Arguments.of("logging.options.text.splitStream", "true", "--log-text-split-stream"),
                Arguments.of("logging.options.text.infoBufferSize", "64Ki", "--log-text-info-buffer-size=64Ki"),
                Arguments.of("logging.options.json.splitStream", "true", "--log-json-split-stream"),
                Arguments.of("logging.options.json.infoBufferSize", "1M", "--log-json-info-buffer-size=1M"),
                Arguments.of("clientConnection.qps", "2.5", "--kube-api-qps=2.5"),
                Arguments.of("clientConnection.burst", "20", "--kube-api-burst=20"),
                Arguments.of("clientConnection.contentType", "application/json", "--kube-api-content-type=application/json"),
                Arguments.of("configSyncPeriod", "1m", "--config-sync-period=60s"),
                Arguments.of("featureGates", "{LoggingAlphaOptions: true, NFTablesProxyMode: true}",
                        "--feature-gates=LoggingAlphaOptions=true,NFTablesProxyMode=true"),
                Arguments.of("bindAddressHardFail", "true", "--bind-address-hard-fail"),
                Arguments.of("enableProfiling", "true", "--profiling"),
                Arguments.of("showHiddenMetricsForVersion", "\"1.33\"", "--show-hidden-metrics-for-version=1.33"));
    }

    @Test
    void theTableBelowCoversEverySupportedField() {
        Set<String> supported = ConfigSchema.BUILT_IN.fields().values().stream().filter(f -> !f.ignored())
                .map(ConfigField::path).collect(Collectors.toCollection(TreeSet::new));
        Set<String> tested = everySupportedField().map(a -> (String) a.get()[0]).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(supported, tested);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everySupportedField")
    void eachSupportedFieldSetsTheSameOptionAsItsFlag(String field, String value, String flag) throws IOException {
        value = value.replace("KUBECONFIG", kubeconfig.toString());
        flag = flag.replace("KUBECONFIG", kubeconfig.toString());
        String[] parts = field.split("\\.");
        StringBuilder body = new StringBuilder();
        String indent = "";
        for (int i = 0; i < parts.length - 1; i++, indent += "  ") {
            body.append(indent).append(parts[i]).append(":\n");
        }
        body.append(indent).append(parts[parts.length - 1]).append(": ").append(value).append("\n");
        // the alpha logging options need their gate, in the file and on the command line alike
        String gate = field.startsWith("logging.options.") ? "--feature-gates=LoggingAlphaOptions=true" : "--once=false";
        String fromFile = effective(gate, "--config=" + file(body.toString()));
        String fromFlag = effective(gate, flag);
        String defaults = effective();
        assertEquals(fromFlag, fromFile, field);
        assertNotEquals(at(defaults, field), at(fromFile, field), field + " must differ from its default: " + fromFile);
    }

    @Test
    void flagsOverrideTheFile() throws IOException {
        Path f = file("mode: ipvs\niptables:\n  syncPeriod: 45s\n  masqueradeBit: 12\nclusterCIDR: 10.244.0.0/16\n");
        String w = effective("--config=" + f, "--iptables-sync-period=10s", "--cluster-cidr=10.9.0.0/16");
        assertEquals("10s", at(w, "iptables.syncPeriod").asText(), "the flag wins");
        assertEquals("10.9.0.0/16", at(w, "clusterCIDR").asText(), "a list flag replaces the file's list");
        assertEquals("ipvs", at(w, "mode").asText(), "the file still sets what no flag gives");
        assertEquals(12, at(w, "iptables.masqueradeBit").asInt());
        // the flag's position does not matter
        assertEquals(w, effective("--iptables-sync-period=10s", "--cluster-cidr=10.9.0.0/16", "--config", f.toString()));
    }

    @Test
    void writtenConfigReadsBackToTheSameOptions() throws IOException {
        String first = effective("--proxy-mode=ipvs", "--cluster-cidr=10.244.0.0/16,fd00::/56", "--iptables-sync-period=1m30s",
                "--ipvs-exclude-cidrs=10.1.0.0/16", "--nodeport-addresses=primary", "--healthz-bind-address=[::]:10256",
                "--bind-address=::", "--proxy-port-range=30000-30010", "--ipvs-udp-timeout=1500ms", "--v=2",
                "--hostname-override=n1", "--kubeconfig=" + kubeconfig);
        Path written = Files.writeString(dir.resolve("written.yaml"), first);
        assertEquals(first, effective("--config=" + written));
        String defaults = effective();
        Path writtenDefaults = Files.writeString(dir.resolve("defaults.yaml"), defaults);
        assertEquals(defaults, effective("--config=" + writtenDefaults));
        assertTrue(defaults.contains("apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"), defaults);
        assertTrue(defaults.contains("kind: KubeProxyConfiguration\n"), defaults);
        assertEquals("30s", at(defaults, "iptables.syncPeriod").asText());
        assertEquals("0.0.0.0:10256", at(defaults, "healthzBindAddress").asText());
        assertEquals("127.0.0.1:10249", at(defaults, "metricsBindAddress").asText());
        assertEquals(14, at(defaults, "iptables.masqueradeBit").asInt());
        assertEquals("ClusterCIDR", at(defaults, "detectLocalMode").asText());
    }

    @Test
    void kubeadmsDefaultConfigConfGivesUpstreamsDefaults() {
        // kubeadm's file names /var/lib/kube-proxy/kubeconfig.conf, which is not here: writing needs only the path
        String fromKubeadm = effective("--config=src/test/resources/config/kubeadm-config.conf");
        assertEquals(effective("--cluster-cidr=10.244.0.0/16", "--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf",
                "--bind-address=0.0.0.0"), fromKubeadm);
        // kubeadm leaves the node-level fields null: upstream's defaults, which raise nf_conntrack_max and the OOM score
        assertEquals(32768, at(fromKubeadm, "conntrack.maxPerCore").asInt());
        assertEquals(131072, at(fromKubeadm, "conntrack.min").asInt());
        assertEquals("24h0m0s", at(fromKubeadm, "conntrack.tcpEstablishedTimeout").asText());
        assertEquals("1h0m0s", at(fromKubeadm, "conntrack.tcpCloseWaitTimeout").asText());
        assertEquals(-999, at(fromKubeadm, "oomScoreAdj").asInt());
        assertEquals(fromKubeadm.replace("/var/lib/kube-proxy/kubeconfig.conf", kubeconfig.toString()),
                effective("--config=src/test/resources/config/kubeadm-config.conf", "--kubeconfig=" + kubeconfig),
                "a flag overrides kubeadm's path");
    }

    @Test
    void deploysConfigMapLoads() {
        Path configMap = Path.of("../deploy/kube-proxy-configmap.yaml");
        assertTrue(Files.exists(configMap), "deploy/ holds the ConfigMap the DaemonSet mounts");
        String w = effective("--config=" + configMap);
        assertEquals("iptables", at(w, "mode").asText());
        assertEquals("0.0.0.0:10256", at(w, "healthzBindAddress").asText());
        assertEquals("127.0.0.1:10249", at(w, "metricsBindAddress").asText());
        assertTrue(at(w, "clusterCIDR").asText().contains("/"), w);
    }

    @Test
    void aBadFileExitsWith2NamingTheField() throws IOException {
        Run r = run("--config=" + file("iptables:\n  syncPeriod: abc\n"), "--write-config-to=" + dir.resolve("w"));
        assertEquals(2, r.status());
        assertTrue(r.err().contains("field iptables.syncPeriod: \"abc\" is not a duration"), r.err());
        assertTrue(Files.notExists(dir.resolve("w")), "nothing written");

        r = run("--config=" + file("ipvs:\n  schedulr: rr\n"));
        assertEquals(2, r.status());
        assertTrue(r.err().contains("field ipvs.schedulr: unknown field"), r.err());
    }

    @Test
    void theFlagsConvertersJudgeTheFilesValues() throws IOException {
        for (String[] c : new String[][] {
                {"iptables:\n  masqueradeBit: 40\n", "field iptables.masqueradeBit: \"40\" is out of range 0..31"},
                {"mode: nftables\n", "field mode: \"nftables\" is not a proxy mode"},
                {"ipvs:\n  scheduler: fast\n", "field ipvs.scheduler: \"fast\" is not an IPVS scheduler"},
                {"clusterCIDR: 10.244.0.0/99\n", "field clusterCIDR: "},
                {"nodePortAddresses: [eth0]\n", "field nodePortAddresses: \"eth0\" is neither a CIDR nor \"primary\""},
                {"healthzBindAddress: \"[1.2.3.4]:1\"\n", "field healthzBindAddress: "},
                {"logging:\n  format: xml\n", "field logging.format: \"xml\" is not a log format"},
                {"featureGates: {SomeGate: true}\n", "field featureGates: unrecognized feature gate: SomeGate"},
                {"featureGates: {NFTablesProxyMode: false}\n", "field featureGates: cannot set feature gate NFTablesProxyMode "
                        + "to false, feature is locked to true"},
                {"logging:\n  vmodule: [{filePattern: a, verbosity: x}]\n", "field logging.vmodule[0]: expected"},
                {"clientConnection:\n  burst: -1\n", "field clientConnection.burst: \"-1\" is negative"},
                {"showHiddenMetricsForVersion: \"1.30\"\n", "must be omitted or have the value '1.33'"},
                {"logging:\n  verbosity: -1\n", "field logging.verbosity: \"-1\" is negative"},
                {"detectLocalMode: Pods\n", "field detectLocalMode: \"Pods\" is not a local traffic detection mode"},
                {"detectLocalMode: nodeCIDR\n", "did you mean NodeCIDR?"},
                {"detectLocalMode: BridgeInterface\n", "--pod-bridge-interface: must be set: field detectLocalMode (config file "},
                {"detectLocalMode: InterfaceNamePrefix\ndetectLocal:\n  interfaceNamePrefix: averyveryverylongone\n",
                        "is longer than 14 characters"}}) {
            Run r = run("--config=" + file(c[0]));
            assertEquals(2, r.status(), c[0]);
            assertTrue(r.err().contains(c[1]), r.err());
        }
    }

    @Test
    void checksAcrossFieldsNameTheFilesFields() throws IOException {
        Run r = run("--config=" + file("iptables:\n  syncPeriod: 10s\n  minSyncPeriod: 1m\n"));
        assertEquals(2, r.status());
        assertTrue(r.err().contains("field iptables.minSyncPeriod (config file ") && r.err().contains("1m0s exceeds field "
                + "iptables.syncPeriod (config file "), r.err());
        r = run("--config=" + file("iptables:\n  minSyncPeriod: 1m\n"), "--iptables-sync-period=10s");
        assertTrue(r.err().contains("exceeds --iptables-sync-period 10s"), "a flag is named as a flag: " + r.err());
    }

    @Test
    void ignoredFieldsAreWarnedAboutOnceEachNamingTheField() throws IOException {
        Logger main = (Logger) LoggerFactory.getLogger(Main.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        main.addAppender(logs);
        try {
            effective("--config=" + file("oomScoreAdj: -500\nconntrack:\n  max: 5\n  maxPerCore: 0\n  udpTimeout: 30s\n"
                    + "logging: {sanitization: true}\nwinkernel: {networkName: x}\n"));
        } finally {
            main.detachAppender(logs);
        }
        List<String> warnings = logs.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(3, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).endsWith("field conntrack.max (5) is ignored: upstream removed it: conntrack.maxPerCore "
                + "and conntrack.min size the table"), warnings.get(0));
        assertTrue(warnings.stream().noneMatch(w -> w.contains("field oomScoreAdj") || w.contains("field conntrack.udpTimeout")
                || w.contains("field conntrack.maxPerCore")), "the node-level fields are acted on: " + warnings);
        assertTrue(warnings.stream().anyMatch(w -> w.contains("field logging.sanitization (true) is ignored")), warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("field winkernel.networkName (\"x\") is ignored: Windows only")),
                warnings.toString());
    }

    @Test
    void helpListsTheNewFlags() {
        Run r = run("--help");
        assertEquals(0, r.status());
        for (String flag : List.of("--config", "--write-config-to", "--logging-format")) {
            assertTrue(r.out().contains(flag), flag + " in " + r.out());
        }
    }

    @Test
    void aMissingConfigFileExitsWith2() {
        Run r = run("--config=" + dir.resolve("nope.yaml"));
        assertEquals(2, r.status());
        assertTrue(r.err().contains("config file " + dir.resolve("nope.yaml") + ": cannot read it"), r.err());
    }

    @Test
    void anUnwritableTargetExitsWith1() {
        Run r = run("--write-config-to=" + dir.resolve("no/such/dir/c.yaml"));
        assertEquals(1, r.status());
        assertTrue(r.err().contains("--write-config-to: cannot write"), r.err());
    }
}
