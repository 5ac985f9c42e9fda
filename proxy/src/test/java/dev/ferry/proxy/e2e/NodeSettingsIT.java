package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Upstream's node-level settings applied by the real proxy as it starts, in a network namespace of
 * its own, read back there: the conntrack timeouts and be-liberal are per namespace and change;
 * nf_conntrack_max is the host's and read-only from a namespace on this kernel (the refusal is said,
 * the host keeps its value); the OOM score is checked on the running proxy's own process. The
 * host's values are compared before and after every run.
 */
class NodeSettingsIT {
    private static final String NETFILTER = "/proc/sys/net/netfilter/";
    private static final List<String> PER_NAMESPACE = List.of("nf_conntrack_tcp_timeout_established",
            "nf_conntrack_tcp_timeout_close_wait", "nf_conntrack_tcp_be_liberal", "nf_conntrack_udp_timeout",
            "nf_conntrack_udp_timeout_stream");
    private static final Duration RUN = Duration.ofSeconds(60);

    private NetNs ns;
    private Map<String, String> hostBefore;
    private Path manifests;

    @BeforeEach
    void namespace() throws IOException {
        Privileged.assumeRootWithTools();
        byte[] random = new byte[3];
        new SecureRandom().nextBytes(random);
        ns = NetNs.create("fy-" + HexFormat.of().formatHex(random) + "-nodeset");
        hostBefore = hostValues();
        manifests = ProxyProcess.jar().toAbsolutePath().getParent().getParent().getParent().resolve("examples/manifests");
        assertTrue(Files.isDirectory(manifests), manifests + " missing");
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (ns != null) {
            ns.delete();
            assertEquals(hostBefore, hostValues(), "the host's conntrack settings are untouched");
        }
    }

    @Test
    void startSetsTheConntrackSettingsOfItsNetworkNamespace() {
        Proc.Result r = runOnce("--conntrack-max-per-core=0", "--conntrack-tcp-timeout-established=12h",
                "--conntrack-tcp-timeout-close-wait=2h", "--conntrack-tcp-be-liberal", "--conntrack-udp-timeout=45s",
                "--conntrack-udp-timeout-stream=3m");
        assertEquals(0, r.exit(), r.describe());
        assertEquals(List.of("43200", "7200", "1", "45", "180"), PER_NAMESPACE.stream().map(this::inNamespace).toList());
        assertTrue(r.err().contains("NodeSetup: set sysctl net/netfilter/nf_conntrack_tcp_timeout_established=43200 (was "),
                r.err());
        assertTrue(r.err().contains("NodeSetup: set sysctl net/netfilter/nf_conntrack_udp_timeout_stream=180 (was "), r.err());
        assertTrue(!r.err().contains("nf_conntrack_max") && !r.err().contains("hashsize"),
                "--conntrack-max-per-core=0 leaves the limit alone: " + r.err());
    }

    @Test
    void kubeadmsConfigGivesUpstreamsDefaults(@TempDir Path dir) throws IOException {
        assumeLimitIsReadOnlyInANamespace();
        Path conf = Path.of("src/test/resources/config/kubeadm-config.conf").toAbsolutePath();
        Path kubeconfig = Files.writeString(dir.resolve("kubeconfig.conf"), ""); // kubeadm's path is not here; unused
        Map<String, String> before = namespaceValues();
        Proc.Result r = ProxyProcess.run(ns, List.of("--config", conf.toString(), "--kubeconfig", kubeconfig.toString(),
                "--manifests", manifests.toString(), "--hostname-override", ProxyProcess.NODE_NAME, "--once"));
        assertEquals(0, r.exit(), "a value that cannot be set stops nothing: " + r.describe());
        Map<String, String> expected = new LinkedHashMap<>(before);
        expected.put("nf_conntrack_tcp_timeout_established", "86400"); // conntrack.tcpEstablishedTimeout null: 24h
        expected.put("nf_conntrack_tcp_timeout_close_wait", "3600"); // conntrack.tcpCloseWaitTimeout null: 1h
        assertEquals(expected, namespaceValues(), "be-liberal false and zero UDP timeouts leave the kernel's values");
        // conntrack.maxPerCore and min null: 32768 per CPU, at least 131072 (the host's own limit, refused here)
        long limit = Math.max(32768L * onlineCpus(), 131072L);
        if (!hostBefore.get("nf_conntrack_max").equals(Long.toString(limit))) {
            assertTrue(r.err().contains("cannot set sysctl net/netfilter/nf_conntrack_max=" + limit + ": read-only in this "
                    + "network namespace (the kernel lets only the host's network namespace change it: run with the "
                    + "host's network); it stays " + hostBefore.get("nf_conntrack_max")
                    + "; --conntrack-max-per-core=0 leaves it alone"), r.err());
        }
        assertOomScoreMinus999Said(r.err());
    }

    @Test
    void aReadOnlyProcSysIsSaidWithWhatToDo() {
        Map<String, String> before = namespaceValues();
        List<String> argv = new ArrayList<>(List.of("unshare", "-m", "sh", "-c",
                "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec \"$@\"", "sh"));
        argv.addAll(ProxyProcess.command(ProxyProcess.fileArgs(manifests, "--once")));
        Proc.Result r = ns.run(RUN, argv);
        assertEquals(before, namespaceValues());
        assertTrue(r.err().contains("cannot set sysctl net/netfilter/nf_conntrack_tcp_timeout_established=86400: read-only "
                + "/proc/sys: run the container privileged; it stays " + before.get("nf_conntrack_tcp_timeout_established")
                + "; --conntrack-tcp-timeout-established=0 leaves it alone (kube-proxy stops on this; ferry goes on)"), r.err());
        // the iptables mode's own sysctl, which its sync needs: that sync fails, saying why
        assertEquals(1, r.exit(), r.describe());
        assertTrue(r.err().contains("sync failed: cannot set sysctl net/ipv4/conf/all/route_localnet=1: read-only /proc/sys: "
                + "run the container privileged"), r.err());
    }

    @Test
    void withoutPrivilegesEachValueSaysPermissionDenied() {
        Map<String, String> before = namespaceValues();
        List<String> argv = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
        argv.addAll(ProxyProcess.command(ProxyProcess.fileArgs(manifests, "--once", "--proxy-mode=userspace")));
        Proc.Result r = ns.run(RUN, argv);
        assertEquals(0, r.exit(), r.describe());
        assertEquals(before, namespaceValues());
        assertTrue(r.err().contains("cannot set sysctl net/netfilter/nf_conntrack_tcp_timeout_close_wait=3600: permission "
                + "denied (needs root, or CAP_NET_ADMIN)"), r.err());
        assertTrue(r.err().contains("cannot set /proc/self/oom_score_adj=-999: permission denied (lowering the OOM score "
                + "needs CAP_SYS_RESOURCE)"), r.err());
    }

    @Test
    void initOnlySetsWhatNeedsPrivilegesAndExitsWithoutSyncing() {
        Proc.Result r = runOnce("--init-only", "--conntrack-max-per-core=0", "--conntrack-tcp-be-liberal");
        assertEquals(0, r.exit(), r.describe());
        assertEquals("86400", inNamespace("nf_conntrack_tcp_timeout_established"));
        assertEquals("1", inNamespace("nf_conntrack_tcp_be_liberal"));
        assertTrue(r.err().contains("initialized (--init-only): conntrack settings set, iptables mode started and stopped; "
                + "exiting"), r.err());
        assertTrue(!r.err().contains("sync complete") && !r.err().contains("oom_score_adj"),
                "no sync and, as upstream, no OOM score: " + r.err());
        assertTrue(ns.iptablesSave().lines().noneMatch(l -> l.contains("KUBE-")), "nothing programmed");
    }

    @Test
    void initOnlyExitsOneWhenAValueCannotBeSet() {
        assumeLimitIsReadOnlyInANamespace();
        Assumptions.assumeFalse(hostBefore.get("nf_conntrack_max").equals(Long.toString(Math.max(32768L * onlineCpus(),
                131072L))), "the host's limit is upstream's default already: nothing is refused");
        Proc.Result r = runOnce("--init-only");
        assertEquals(1, r.exit(), "an init container that could not do its job fails: " + r.describe());
        assertTrue(r.err().contains("conntrack settings not all set (see above)"), r.err());
    }

    @Test
    void aDryRunSaysWhatItWouldSetAndChangesNothing() {
        Map<String, String> before = namespaceValues();
        Proc.Result r = runOnce("--dry-run", "--conntrack-tcp-be-liberal");
        assertEquals(0, r.exit(), r.describe());
        assertEquals(before, namespaceValues());
        assertTrue(r.err().contains("dry run: would set sysctl net/netfilter/nf_conntrack_tcp_be_liberal=1 (now 0): "
                + "--conntrack-tcp-be-liberal"), r.err());
    }

    @Test
    void cleanupAppliesNone() {
        Map<String, String> before = namespaceValues();
        Proc.Result r = ProxyProcess.run(ns, List.of("--cleanup", "--conntrack-tcp-be-liberal"));
        assertEquals(0, r.exit(), r.describe());
        assertEquals(before, namespaceValues());
        assertTrue(!r.err().contains("NodeSetup"), r.err());
    }

    @Test
    void theRunningProxyHasItsOomScore() {
        try (Proc proxy = ns.start(ProxyProcess.command(ProxyProcess.fileArgs(manifests, "--oom-score-adj=321",
                "--healthz-bind-address=", "--metrics-bind-address=")))) {
            Path score = Path.of("/proc", Long.toString(proxy.pid()), "oom_score_adj");
            Wait.until("the proxy's oom_score_adj to be 321", Duration.ofSeconds(30), () -> read(score),
                    "321"::equals, s -> s + "\n" + proxy.err());
            assertTrue(proxy.err().contains("NodeSetup: set oom_score_adj=321 (was "), proxy.err());
        }
    }

    /** kubeadm's default on this machine's kernel: refused in a namespace, said so; where it were writable it is global. */
    private void assumeLimitIsReadOnlyInANamespace() {
        String mode = ns.check("stat", "-c", "%a", NETFILTER + "nf_conntrack_max").out().strip();
        Assumptions.assumeTrue(mode.equals("444"), "nf_conntrack_max is writable from a network namespace on this kernel "
                + "(mode " + mode + ") and global: a run with upstream's defaults would change the host's limit");
    }

    private void assertOomScoreMinus999Said(String log) throws IOException {
        if (hasCapSysResource()) {
            assertTrue(log.contains("set oom_score_adj=-999 (was "), log);
        } else {
            assertTrue(log.contains("cannot set /proc/self/oom_score_adj=-999: permission denied (lowering the OOM score "
                    + "needs CAP_SYS_RESOURCE)"), log);
        }
    }

    private Proc.Result runOnce(String... extra) {
        List<String> args = new ArrayList<>(List.of("--once"));
        args.addAll(List.of(extra));
        return ProxyProcess.run(ns, ProxyProcess.fileArgs(manifests, args.toArray(String[]::new)));
    }

    private String inNamespace(String key) {
        return ns.check("cat", NETFILTER + key).out().strip();
    }

    private Map<String, String> namespaceValues() {
        Map<String, String> out = new LinkedHashMap<>();
        PER_NAMESPACE.forEach(k -> out.put(k, inNamespace(k)));
        return out;
    }

    private static Map<String, String> hostValues() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : List.of("nf_conntrack_max", "nf_conntrack_tcp_timeout_established",
                "nf_conntrack_tcp_timeout_close_wait", "nf_conntrack_tcp_be_liberal", "nf_conntrack_udp_timeout",
                "nf_conntrack_udp_timeout_stream")) {
            out.put(k, Proc.check(List.of("cat", NETFILTER + k)).out().strip());
        }
        out.put("hashsize", Files.readString(Path.of("/sys/module/nf_conntrack/parameters/hashsize")).strip());
        return out;
    }

    private static long onlineCpus() {
        return Long.parseLong(Proc.check(List.of("getconf", "_NPROCESSORS_ONLN")).out().strip());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    private static boolean hasCapSysResource() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << 24)) != 0;
            }
        }
        return false;
    }
}
