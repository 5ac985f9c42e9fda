package dev.ferry.proxy.config;

import dev.ferry.proxy.config.KubeProxyConfigFile.Setting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the file: strictness, types, upstream's defaulting of zero values, ignored fields. */
class KubeProxyConfigFileTest {

    static final String HEAD = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    static KubeProxyConfigFile parse(String body) throws ConfigFileException {
        return KubeProxyConfigFile.parse("/x", HEAD + body);
    }

    static String error(String body) {
        return assertThrows(ConfigFileException.class, () -> parse(body)).getMessage();
    }

    static Map<String, String> byField(KubeProxyConfigFile f) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Setting s : f.settings()) {
            out.put(s.field(), s.value());
        }
        return out;
    }

    @Test
    void unknownFieldsFailNamingTheirPath() {
        assertEquals("config file /x: field iptables.syncPeriodd: unknown field (not in KubeProxyConfiguration "
                + "kubeproxy.config.k8s.io/v1alpha1)", error("iptables:\n  syncPeriodd: 30s\n"));
        assertTrue(error("frobnicate: true\n").startsWith("config file /x: field frobnicate: unknown field"));
        assertTrue(error("conntrack:\n  tcpTimeout: 1s\n").contains("field conntrack.tcpTimeout: unknown field"));
        assertTrue(error("iptables:\n  syncperiod: 30s\n").endsWith("did you mean \"syncPeriod\"?"),
                "a case slip gets a suggestion");
        assertTrue(error("ipvs: 3\n").contains("field ipvs: expected an object, got 3"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "iptables:\\n  syncPeriod: abc\\n|field iptables.syncPeriod: \"abc\" is not a duration",
        "iptables:\\n  syncPeriod: 30\\n|field iptables.syncPeriod: expected a duration string (e.g. \"30s\"), got 30",
        "ipvs:\\n  tcpTimeout: 5x\\n|field ipvs.tcpTimeout: \"5x\" has an unknown unit",
        // (an unquoted yes is YAML 1.1's true, for upstream's YAML reader too)
        "iptables:\\n  masqueradeAll: \"true\"\\n|field iptables.masqueradeAll: expected true or false, got \"true\"",
        "iptables:\\n  masqueradeBit: \"14\"\\n|field iptables.masqueradeBit: expected a 32-bit integer, got \"14\"",
        "oomScoreAdj: 99999999999\\n|field oomScoreAdj: expected a 32-bit integer",
        "nodePortAddresses: 10.0.0.0/8\\n|field nodePortAddresses: expected a list of strings",
        "nodePortAddresses: [10.0.0.0/8, 7]\\n|field nodePortAddresses[1]: expected a string, got 7",
        "featureGates:\\n  Foo: maybe\\n|field featureGates.Foo: expected true or false",
        "detectLocalMode: 3\\n|field detectLocalMode: expected a string, got 3",
    })
    void valuesOfTheWrongTypeOrSyntaxFailNamingTheField(String body, String expected) {
        String message = error(body.replace("\\n", "\n"));
        assertTrue(message.startsWith("config file /x: " + expected), message);
    }

    @Test
    void apiVersionAndKindAreUpstreams() {
        assertEquals("config file /x: field apiVersion: missing (must be kubeproxy.config.k8s.io/v1alpha1)",
                assertThrows(ConfigFileException.class, () -> KubeProxyConfigFile.parse("/x", "kind: KubeProxyConfiguration\n"))
                        .getMessage());
        assertTrue(assertThrows(ConfigFileException.class, () -> KubeProxyConfigFile.parse("/x",
                "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n")).getMessage()
                .startsWith("config file /x: field kind: \"KubeletConfiguration\" is not KubeProxyConfiguration"));
        assertTrue(assertThrows(ConfigFileException.class, () -> KubeProxyConfigFile.parse("/x", "")).getMessage()
                .contains("empty"));
        assertTrue(assertThrows(ConfigFileException.class, () -> KubeProxyConfigFile.parse("/x", "- a\n- b\n")).getMessage()
                .contains("not a KubeProxyConfiguration object"));
        assertTrue(assertThrows(ConfigFileException.class, () -> KubeProxyConfigFile.parse("/x", "a: [\n")).getMessage()
                .contains("neither YAML nor JSON"));
    }

    @Test
    void aFieldGivenTwiceIsAnError() {
        assertTrue(error("mode: ipvs\nmode: iptables\n").contains("mode"), "duplicate keys are refused");
    }

    @Test
    void zeroValuesMeanUpstreamsDefaults() throws Exception {
        KubeProxyConfigFile f = parse("""
                iptables: {syncPeriod: 0s, minSyncPeriod: 0s, masqueradeBit: null}
                ipvs: {syncPeriod: 0s, minSyncPeriod: 0s, scheduler: ""}
                healthzBindAddress: ""
                mode: ""
                nodePortAddresses: []
                udpIdleTimeout: 0s
                """);
        // ipvs.minSyncPeriod 0s is a value (its default is 0 too); the others are "unset"
        assertEquals(Map.of("ipvs.minSyncPeriod", "0s"), byField(f));
        assertEquals(List.of(), f.ignored());
    }

    @Test
    void aBareIpGetsUpstreamsPort() throws Exception {
        Map<String, String> f = byField(parse("healthzBindAddress: 0.0.0.0\nmetricsBindAddress: \"::1\"\n"));
        assertEquals("0.0.0.0:10256", f.get("healthzBindAddress"));
        assertEquals("[::1]:10249", f.get("metricsBindAddress"));
    }

    @Test
    void anIpv6BindAddressMakesTheDefaultServerAddressesIpv6AsUpstreamsDefaulting() throws Exception {
        Map<String, String> f = byField(parse("bindAddress: \"fd00::5\"\n"));
        assertEquals("[::]:10256", f.get("healthzBindAddress"));
        assertEquals("[::1]:10249", f.get("metricsBindAddress"));
        f = byField(parse("bindAddress: \"::\"\nmetricsBindAddress: \"[::]:9999\"\n"));
        assertEquals("[::]:10256", f.get("healthzBindAddress"));
        assertEquals("[::]:9999", f.get("metricsBindAddress"), "a field given is kept");
        assertEquals(null, byField(parse("bindAddress: 10.0.0.5\n")).get("healthzBindAddress"), "IPv4: the flags' defaults");
    }

    @Test
    void ignoredFieldsAreListedOnlyWhenTheyCarryAValue() throws Exception {
        KubeProxyConfigFile f = parse("""
                oomScoreAdj: -999
                configSyncPeriod: 15m
                featureGates: {}
                conntrack: {maxPerCore: 32768, min: 131072, tcpCloseWaitTimeout: 1h0m0s, udpTimeout: 0s}
                clientConnection: {qps: 5, burst: 10, contentType: application/vnd.kubernetes.protobuf}
                logging: {flushFrequency: 0, options: {json: {infoBufferSize: "0"}}}
                """);
        assertEquals(List.of(), f.ignored(), "zero values and upstream's defaults are not worth a warning");
        f = parse("""
                oomScoreAdj: -998
                featureGates: {NFTablesProxyMode: true}
                conntrack: {maxPerCore: 0, udpTimeout: 30s}
                nftables: {masqueradeBit: 13}
                """);
        assertEquals(List.of("nftables.masqueradeBit"),
                f.ignored().stream().map(KubeProxyConfigFile.Ignored::field).toList());
        assertEquals("ferry has no nftables mode", f.ignored().get(0).why());
        assertEquals(List.of(new KubeProxyConfigFile.Setting("oomScoreAdj", "--oom-score-adj", "-998"),
                new KubeProxyConfigFile.Setting("featureGates", "--feature-gates", "NFTablesProxyMode=true"),
                new KubeProxyConfigFile.Setting("conntrack.maxPerCore", "--conntrack-max-per-core", "0"),
                new KubeProxyConfigFile.Setting("conntrack.udpTimeout", "--conntrack-udp-timeout", "30s")), f.settings(),
                "the node-level fields are acted on, a zero included (it leaves the kernel's value alone); "
                        + "featureGates sets --feature-gates");
    }

    @Test
    void jsonIsReadToo() throws Exception {
        KubeProxyConfigFile f = KubeProxyConfigFile.parse("/x.json", """
                {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
                 "mode": "ipvs", "ipvs": {"scheduler": "lc", "excludeCIDRs": ["10.1.0.0/16", "10.2.0.0/16"]}}
                """);
        assertEquals(Map.of("mode", "ipvs", "ipvs.scheduler", "lc", "ipvs.excludeCIDRs", "10.1.0.0/16,10.2.0.0/16"),
                byField(f));
    }

    @Test
    void kubeadmsDefaultConfigConfLoadsWithoutWarnings() throws Exception {
        KubeProxyConfigFile f = KubeProxyConfigFile.load(Path.of("src/test/resources/config/kubeadm-config.conf"));
        // what is left after upstream's defaulting: the values kubeadm chose, and zeros that are real values
        // (conntrack.maxPerCore, min, the TCP timeouts and oomScoreAdj are null: upstream's defaults apply)
        assertEquals(Map.ofEntries(Map.entry("clientConnection.kubeconfig", "/var/lib/kube-proxy/kubeconfig.conf"),
                Map.entry("bindAddress", "0.0.0.0"), Map.entry("clusterCIDR", "10.244.0.0/16"),
                Map.entry("iptables.masqueradeAll", "false"), Map.entry("ipvs.minSyncPeriod", "0s"),
                Map.entry("ipvs.strictARP", "false"), Map.entry("ipvs.tcpTimeout", "0s"), Map.entry("ipvs.tcpFinTimeout", "0s"),
                Map.entry("ipvs.udpTimeout", "0s"), Map.entry("conntrack.tcpBeLiberal", "false"),
                Map.entry("conntrack.udpTimeout", "0s"), Map.entry("conntrack.udpStreamTimeout", "0s"),
                Map.entry("logging.verbosity", "0"), Map.entry("bindAddressHardFail", "false"),
                Map.entry("enableProfiling", "false")), byField(f));
        assertEquals(List.of(), f.ignored());
    }

    @Test
    void aWholeConfigMapIsReadFromItsConfigConfKey(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String conf = Files.readString(Path.of("src/test/resources/config/kubeadm-config.conf"));
        Path cm = dir.resolve("cm.yaml");
        Files.writeString(cm, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\n"
                + "data:\n  config.conf: |\n" + conf.indent(4) + "  kubeconfig.conf: |\n    apiVersion: v1\n    kind: Config\n");
        KubeProxyConfigFile f = KubeProxyConfigFile.load(cm);
        assertEquals(cm + " (data.config.conf)", f.source());
        assertEquals("10.244.0.0/16", byField(f).get("clusterCIDR"));
        Files.writeString(cm, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  other: x\n");
        assertTrue(assertThrows(ConfigFileException.class, () -> KubeProxyConfigFile.load(cm)).getMessage()
                .contains("field data.config.conf: missing"));
    }

    @Test
    void anUnreadableFileSaysSo(@org.junit.jupiter.api.io.TempDir Path dir) {
        assertTrue(assertThrows(ConfigFileException.class, () -> KubeProxyConfigFile.load(dir.resolve("none")))
                .getMessage().startsWith("config file " + dir.resolve("none") + ": cannot read it"));
    }
}
