package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTraffic;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.ipvs.netlink.IpvsTimeouts;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.CommandRunners;
import dev.ferry.netfilter.KubeletChains;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.netfilter.NetworkSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * IpvsRules.apply on this machine's kernel (ipset and iptables, no IPVS) in a fresh network
 * namespace (ipsets and netfilter tables are per namespace): the sets and rules appear exactly,
 * a second apply changes nothing, a changed snapshot updates the sets in place, and a foreign
 * set and a foreign rule survive every apply.
 */
class IpvsRulesPrivilegedTest {

    private static final NetworkSettings CONFIG = NetworkSettings.defaults()
            .withClusterCidrs(List.of(dev.ferry.core.Cidr.parse("10.244.0.0/16")));

    private String ns;
    private CommandRunner inside;

    @BeforeEach
    void namespace() throws IOException {
        assumeTrue(isRoot(), "needs root: creates a network namespace and programs ipset/iptables in it");
        ns = "fy-" + UUID.randomUUID().toString().substring(0, 8) + "-ipvsr";
        run(CommandRunners.process(), null, "ip", "netns", "add", ns);
        inside = CommandRunners.prefixed(List.of("ip", "netns", "exec", ns), CommandRunners.process());
        run(inside, null, "ip", "link", "set", "lo", "up");
    }

    @AfterEach
    void remove() throws IOException {
        if (ns != null) {
            CommandRunners.process().run(List.of("ip", "netns", "del", ns), null);
        }
    }

    private static boolean isRoot() {
        try {
            CommandRunner.Result r = CommandRunners.process().run(List.of("id", "-u"), null);
            return r.ok() && r.stdout().strip().equals("0");
        } catch (IOException e) {
            return false;
        }
    }

    private static String run(CommandRunner runner, String stdin, String... argv) throws IOException {
        CommandRunner.Result r = runner.run(List.of(argv), stdin == null ? null : stdin.getBytes(StandardCharsets.UTF_8));
        if (!r.ok()) {
            throw new IOException(String.join(" ", argv) + " exited " + r.exitCode() + ": " + r.stderr());
        }
        return r.stdout();
    }

    private static ProxySnapshot snapshot(boolean withSecond) {
        Snap s = new Snap().nodeAddress("10.0.0.1")
                .port("default", "kube-dns", "dns-tcp", Protocol.TCP, "10.96.0.10", 53)
                .endpoint("10.244.1.5", 53, true).endpoint("10.244.2.7", 53, false).done()
                .port("web", "front", "http", Protocol.TCP, "10.96.0.20", 80).nodePort(30080)
                .lbIP("192.0.2.10").sourceRange("10.0.0.0/8").externalLocal(32000)
                .endpoint("10.244.1.6", 8080, true).done()
                .port("web", "udp", "", Protocol.UDP, "10.96.0.30", 5353).nodePort(30053).done();
        if (withSecond) {
            s.port("web", "sctp", "", Protocol.SCTP, "10.96.0.40", 9000).nodePort(30090).done();
        }
        return s.build();
    }

    private IpvsRules.Applied apply(ProxySnapshot snap) throws IOException {
        IpvsSets sets = new IpsetWriter(IpFamily.IPV4, CONFIG).write(snap, List.of(Snap.ip("10.0.0.1")));
        return IpvsRules.apply(inside, sets, CONFIG.localTraffic(IpFamily.IPV4, null), new IpvsRuleWriter(IpFamily.IPV4, CONFIG, true));
    }

    private TreeSet<String> setNames() throws IOException {
        return new TreeSet<>(Arrays.asList(run(inside, null, "ipset", "list", "-n").strip().split("\n")));
    }

    private List<String> members(String set) throws IOException {
        return Arrays.stream(run(inside, null, "ipset", "save", set).split("\n"))
                .filter(l -> l.startsWith("add ")).map(l -> l.substring(("add " + set + " ").length())).sorted()
                .collect(Collectors.toList());
    }

    private String save() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String table : List.of("nat", "filter")) {
            for (String line : run(inside, null, "iptables-save", "-t", table).split("\n")) {
                if (!line.startsWith("#")) {
                    sb.append(line).append('\n');
                }
            }
        }
        return sb.toString();
    }

    private static List<String> ruleLines(String save, String chain) {
        List<String> out = new ArrayList<>();
        for (String line : save.split("\n")) {
            if (line.startsWith("-A " + chain + " ")) {
                out.add(line);
            }
        }
        return out;
    }

    @Test
    void appliesUpstreamSetsAndRulesIdempotentlyAndLeavesForeignOnesAlone() throws IOException {
        run(inside, null, "ipset", "create", "foreign-set", "hash:ip");
        run(inside, null, "ipset", "add", "foreign-set", "198.51.100.7");
        run(inside, null, "iptables", "-t", "nat", "-A", "PREROUTING", "-s", "198.51.100.7", "-j", "ACCEPT");
        run(inside, null, "iptables", "-t", "filter", "-N", "ADMIN-CHAIN");
        run(inside, null, "iptables", "-t", "filter", "-A", "INPUT", "-j", "ADMIN-CHAIN");

        IpvsRules.Applied first = apply(snapshot(false));
        assertEquals(IpvsChains.JUMPS.size(), first.jumpsAdded(), "every jump is missing on a fresh node");

        TreeSet<String> expectedSets = new TreeSet<>();
        for (KubeIpSet s : KubeIpSet.values()) {
            expectedSets.add(s.name(IpFamily.IPV4));
        }
        expectedSets.add("foreign-set");
        assertEquals(expectedSets, setNames(), "our 17 sets, the foreign one, no scratch set left");
        assertEquals(List.of("198.51.100.7"), members("foreign-set"));
        assertEquals(List.of("10.96.0.10,tcp:53", "10.96.0.20,tcp:80", "10.96.0.30,udp:5353"), members("KUBE-CLUSTER-IP"));
        assertEquals(List.of("10.244.1.5,tcp:53,10.244.1.5", "10.244.1.6,tcp:8080,10.244.1.6"), members("KUBE-LOOP-BACK"));
        assertEquals(List.of("30080"), members("KUBE-NODE-PORT-TCP"));
        assertEquals(List.of("30080"), members("KUBE-NODE-PORT-LOCAL-TCP"));
        assertEquals(List.of("30053"), members("KUBE-NODE-PORT-UDP"));
        assertEquals(List.of("32000"), members("KUBE-HEALTH-CHECK-NODE-PORT"));
        assertEquals(List.of("192.0.2.10,tcp:80"), members("KUBE-LOAD-BALANCER-LOCAL"));
        assertEquals(List.of("192.0.2.10,tcp:80,10.0.0.0/8"), members("KUBE-LOAD-BALANCER-SOURCE-CIDR"));
        assertEquals(List.of("192.0.2.10,tcp:80,192.0.2.10"), members("KUBE-LOAD-BALANCER-SOURCE-IP"));
        assertEquals(List.of("10.96.0.10", "10.96.0.20", "10.96.0.30", "192.0.2.10"), members("KUBE-IPVS-IPS"));
        assertTrue(members("KUBE-NODE-PORT-SCTP-HASH").isEmpty());

        String save = save();
        assertEquals(List.of(
                "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN",
                "-A KUBE-SERVICES -m comment --comment \"Kubernetes service lb portal\" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER",
                "-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ",
                "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
                "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
                "-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT"),
                ruleLines(save, "KUBE-SERVICES"));
        assertEquals(List.of(
                "-A KUBE-POSTROUTING -m comment --comment \"Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose\" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE",
                "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
                "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
                "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully"),
                ruleLines(save, "KUBE-POSTROUTING"));
        assertTrue(save.contains("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"));
        assertTrue(save.contains("-A INPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-FILTER\n"));
        assertTrue(save.contains("-A PREROUTING -s 198.51.100.7/32 -j ACCEPT\n"), "foreign nat rule kept");
        assertTrue(save.contains("-A INPUT -j ADMIN-CHAIN\n"), "foreign filter jump kept");
        assertTrue(save.contains(":ADMIN-CHAIN - [0:0]\n"), "foreign chain kept");

        IpvsRules.Applied again = apply(snapshot(false));
        assertEquals(0, again.jumpsAdded(), "jumps are found, not added twice");
        assertEquals(save, save(), "a second apply of the same snapshot changes no rule");
        assertEquals(expectedSets, setNames());

        apply(snapshot(true));
        assertEquals(List.of("10.96.0.10,tcp:53", "10.96.0.20,tcp:80", "10.96.0.30,udp:5353", "10.96.0.40,sctp:9000"),
                members("KUBE-CLUSTER-IP"));
        assertEquals(List.of("10.0.0.1,sctp:30090"), members("KUBE-NODE-PORT-SCTP-HASH"));
        String withSctp = save();
        // iptables-save escapes the single quotes of upstream's comment.
        assertTrue(withSctp.contains("-A KUBE-NODE-PORT -p sctp -m comment --comment \"Kubernetes nodeport SCTP port for masquerade purpose with type \\'hash ip:port\\'\" -m set --match-set KUBE-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ\n"),
                withSctp);

        apply(new Snap().nodeAddress("10.0.0.1").build());
        assertTrue(members("KUBE-CLUSTER-IP").isEmpty(), "emptied in place");
        assertEquals(expectedSets, setNames(), "sets stay (iptables still references them)");
        String empty = save();
        assertFalse(empty.contains("--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ"), "no rule for an empty set");
        assertTrue(empty.contains("-A PREROUTING -s 198.51.100.7/32 -j ACCEPT\n"));
        assertEquals(List.of("198.51.100.7"), members("foreign-set"));
    }

    /** Every detector kind's ClusterIP masquerade rule is one the kernel takes, and iptables-save shows it back. */
    @Test
    void eachLocalTrafficDetectorsRuleIsAppliedAsWritten() throws IOException {
        IpvsSets sets = new IpsetWriter(IpFamily.IPV4, CONFIG).write(snapshot(false), List.of(Snap.ip("10.0.0.1")));
        java.util.Map<LocalTraffic, String> cases = new java.util.LinkedHashMap<>();
        cases.put(new LocalTraffic.InInterface("cbr0"), "! -i cbr0");
        cases.put(new LocalTraffic.InInterfacePrefix("veth"), "! -i veth+");
        cases.put(new LocalTraffic.SourceCidr(dev.ferry.core.Cidr.parse("10.244.3.0/24")), "! -s 10.244.3.0/24");
        for (var c : cases.entrySet()) {
            IpvsRules.apply(inside, sets, c.getKey(), new IpvsRuleWriter(IpFamily.IPV4, CONFIG, true));
            List<String> masquerade = ruleLines(save(), IpvsChains.SERVICES).stream()
                    .filter(l -> l.contains("KUBE-CLUSTER-IP") && l.endsWith("-j KUBE-MARK-MASQ")).toList();
            assertEquals(List.of("-A KUBE-SERVICES " + c.getValue() + " -m comment --comment \"Kubernetes service cluster ip "
                    + "+ port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ"),
                    masquerade, c.getKey()::toString);
        }
    }

    @Test
    void ipv6SetsAndRulesWithExternalIpsAndALeftoverScratchSet() throws IOException {
        // A scratch set left behind by an apply that died half-way is reused, emptied and removed.
        run(inside, null, "ipset", "create", "KUBE-6-TMP-SET-1", "hash:ip,port", "family", "inet6");
        run(inside, null, "ipset", "add", "KUBE-6-TMP-SET-1", "fd00::99,tcp:1");
        run(inside, null, "ip6tables", "-t", "nat", "-A", "PREROUTING", "-s", "2001:db8::7", "-j", "ACCEPT");
        ProxySnapshot snap = new Snap().nodeAddress("2001:db8::1")
                .port("ns", "v6", "", Protocol.TCP, "fd00:96::10", 80).externalIP("2001:db8:ff::5")
                .endpoint("fd00:244::5", 8080, true).done()
                .build();
        NetworkSettings config = NetworkSettings.defaults().withClusterCidrs(List.of(dev.ferry.core.Cidr.parse("fd00:244::/64")));
        IpvsSets sets = new IpsetWriter(IpFamily.IPV6, config).write(snap, List.of(Snap.ip("2001:db8::1")));
        IpvsRules.apply(inside, sets, config.localTraffic(IpFamily.IPV6, null), new IpvsRuleWriter(IpFamily.IPV6, config, true));

        TreeSet<String> expected = new TreeSet<>();
        for (KubeIpSet s : KubeIpSet.values()) {
            expected.add(s.name(IpFamily.IPV6));
        }
        assertEquals(expected, setNames(), "only our IPv6 sets; the leftover scratch set is gone");
        assertEquals(List.of("fd00:96::10,tcp:80"), members("KUBE-6-CLUSTER-IP"));
        assertEquals(List.of("2001:db8:ff::5,tcp:80"), members("KUBE-6-EXTERNAL-IP"));
        assertEquals(List.of("fd00:244::5,tcp:8080,fd00:244::5"), members("KUBE-6-LOOP-BACK"));

        String save = run(inside, null, "ip6tables-save", "-t", "nat");
        assertTrue(save.contains("-A KUBE-SERVICES -s ::1/128 -j RETURN\n"), save);
        assertTrue(save.contains("-A KUBE-SERVICES ! -s fd00:244::/64 -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n"), save);
        assertTrue(save.contains("--match-set KUBE-6-EXTERNAL-IP dst,dst -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT\n"), save);
        assertTrue(save.contains("-A PREROUTING -s 2001:db8::7/128 -j ACCEPT\n"), "foreign IPv6 rule kept");
        assertFalse(run(inside, null, "iptables-save", "-t", "nat").contains("KUBE-"), "IPv4 tables untouched");
    }

    /** Exit code of a TCP connect from inside the namespace (0 = connected). */
    private int connect(String ip, int port) throws IOException {
        return inside.run(List.of("socat", "-u", "OPEN:/dev/null", "TCP:" + ip + ":" + port + ",connect-timeout=2"), null)
                .exitCode();
    }

    /**
     * KUBE-IPVS-FILTER on the real kernel (kubernetes#72236): with a Service IP on the node, only
     * the Service's own port answers through it; another host port on that IP is rejected.
     * The VIP sits on lo here (no dummy links on this kernel), which is what kube-ipvs0 does.
     */
    @Test
    void vipReachesOnlyTheServicePortOfTheNode() throws Exception {
        run(inside, null, "ip", "addr", "add", "10.96.0.10/32", "dev", "lo");
        List<Process> listeners = new ArrayList<>();
        try {
            for (int port : new int[] {53, 2222}) {
                listeners.add(new ProcessBuilder("ip", "netns", "exec", ns, "socat", "-u",
                        "TCP-LISTEN:" + port + ",bind=10.96.0.10,reuseaddr,fork", "OPEN:/dev/null")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (connect("10.96.0.10", 53) != 0 || connect("10.96.0.10", 2222) != 0) {
                assertTrue(System.nanoTime() < deadline, "listeners did not come up");
                Thread.onSpinWait();
            }

            apply(snapshot(false));
            assertEquals(0, connect("10.96.0.10", 53), "the Service port (KUBE-CLUSTER-IP 10.96.0.10,tcp:53) returns");
            assertTrue(connect("10.96.0.10", 2222) != 0, "another port on the VIP is rejected");
            String counters = run(inside, null, "iptables", "-t", "filter", "-L", "KUBE-IPVS-FILTER", "-v", "-n", "-x");
            assertTrue(counters.lines().anyMatch(l -> l.contains("REJECT") && !l.trim().startsWith("0 ")), counters);
        } finally {
            for (Process p : listeners) {
                p.destroy();
            }
            for (Process p : listeners) {
                p.waitFor();
            }
        }
    }

    /**
     * What the iptables mode (a Service with endpoints, one without: filter KUBE-SERVICES REJECTs it) and the
     * userspace mode (portals redirecting a Service to a listener that is gone) leave on a node, as
     * iptables-restore --noflush input.
     */
    static final String OTHER_MODES_LEFTOVERS = """
            *mangle
            :KUBE-PROXY-CANARY - [0:0]
            COMMIT
            *filter
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-PROXY-CANARY - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORT-NON-LOCAL - [0:0]
            -I INPUT -m comment --comment "Ensure that non-local NodePort traffic can flow" -j KUBE-NODEPORT-NON-LOCAL
            -I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
            -I INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
            -I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -I OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -I FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
            -A KUBE-SERVICES -d 10.96.0.99/32 -p tcp -m comment --comment "ns/gone:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-NODEPORT-NON-LOCAL -p tcp -m tcp --dport 40000 -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-PROXY-CANARY - [0:0]
            :KUBE-SVC-ERIFXISQEP7F7OF4 - [0:0]
            :KUBE-SEP-IT2ZTR26TO4XFPTO - [0:0]
            :KUBE-PORTALS-CONTAINER - [0:0]
            :KUBE-PORTALS-HOST - [0:0]
            -I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -I POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
            -I PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER
            -I OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-HOST
            -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            -A KUBE-SVC-ERIFXISQEP7F7OF4 -m comment --comment "default/kube-dns:dns-tcp -> 10.244.1.5:53" -j KUBE-SEP-IT2ZTR26TO4XFPTO
            -A KUBE-SEP-IT2ZTR26TO4XFPTO -s 10.244.1.5/32 -j KUBE-MARK-MASQ
            -A KUBE-SEP-IT2ZTR26TO4XFPTO -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:53
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
            -A KUBE-PORTALS-CONTAINER -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -j REDIRECT --to-ports 40000
            -A KUBE-PORTALS-HOST -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 10.0.0.1:40000
            COMMIT
            """;

    /**
     * The other modes' chains as the registry gives them to ipvs mode (ProxyModes.leftoversFor: iptables mode's
     * ownedChains, userspace mode's portals; ProxyModesTest checks the real one against these names).
     */
    static final Predicate<String> OTHER_MODES = chain -> chain.matches("KUBE-(SVC|SVL|EXT|FW|SEP)-.*")
            || List.of("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-FORWARD",
            "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY", "KUBE-PORTALS-CONTAINER", "KUBE-PORTALS-HOST",
            "KUBE-NODEPORT-CONTAINER", "KUBE-NODEPORT-HOST", "KUBE-NODEPORT-NON-LOCAL").contains(chain);

    private String saveAll() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String table : List.of("mangle", "filter", "nat")) {
            for (String line : run(inside, null, "iptables-save", "-t", table).split("\n")) {
                if (!line.startsWith("#")) {
                    sb.append(line).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /**
     * ipvs mode's first sync on a node where the iptables and userspace modes ran (and the kubelet keeps its
     * chains): the other modes' chains it does not write itself go with the jumps to them, filter KUBE-SERVICES
     * and its REJECT among them; its own chains (nat KUBE-SERVICES too) hold its rules; the kubelet's are
     * unchanged. The IPVS table and kube-ipvs0 are fakes here: only iptables and ipset are on this kernel.
     */
    @Test
    void theFirstSyncRemovesTheOtherModesChainsItDoesNotUseAndKeepsItsOwnAndTheKubelets() throws IOException {
        run(inside, KubeletChains.RULES, "iptables-restore", "--noflush");
        run(inside, OTHER_MODES_LEFTOVERS, "iptables-restore", "--noflush");
        List<String> kubelet = KubeletChains.lines(saveAll());
        IpvsConfig config = new IpvsConfig(CONFIG, "", List.of(), false, IpvsTimeouts.ofSeconds(0, 0, 0), OTHER_MODES);
        IpvsBackendTest.Table table = new IpvsBackendTest.Table();
        IpvsBackend backend = new IpvsBackend(IpFamily.IPV4, config, table, new IpvsBackendTest.Link(), inside,
                LocalAddresses.of(List.of(Snap.ip("10.0.0.1"))), () -> { });

        SyncResult r = backend.sync(snapshot(false));

        assertTrue(r.ok(), r.error());
        String save = saveAll();
        for (String gone : List.of("KUBE-SVC-", "KUBE-SEP-", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES", "KUBE-PROXY-CANARY",
                "KUBE-PORTALS-", "KUBE-NODEPORT-NON-LOCAL", "10.96.0.99", "has no endpoints")) {
            assertFalse(save.contains(gone), gone + " is left:\n" + save);
        }
        String filter = save.substring(save.indexOf("*filter\n"), save.indexOf("*nat\n"));
        assertFalse(filter.contains("KUBE-SERVICES"), "filter KUBE-SERVICES and the jumps to it are gone:\n" + filter);
        assertEquals(List.of(
                "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN",
                "-A KUBE-SERVICES -m comment --comment \"Kubernetes service lb portal\" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER",
                "-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ",
                "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
                "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
                "-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT"),
                ruleLines(save, "KUBE-SERVICES"), "nat KUBE-SERVICES is ipvs mode's own now");
        for (String kept : List.of(
                "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
                "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
                "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n",
                "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n",
                "-A INPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-FILTER\n",
                "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n",
                ":KUBE-NODE-PORT - [0:0]\n")) {
            assertTrue(save.contains(kept), "missing: " + kept + "in:\n" + save);
        }
        assertEquals(1, save.split("-A PREROUTING -m comment --comment \"kubernetes service portals\"", -1).length - 1,
                "the shared jump once:\n" + save);
        assertEquals(kubelet, KubeletChains.lines(save), "the kubelet's chains are unchanged");
        assertEquals(6, table.services.size(), "the IPVS table is programmed: " + table.view());

        String afterFirst = save;
        run(inside, null, "iptables", "-t", "nat", "-N", "KUBE-SVC-LATECOMER0000000");
        assertTrue(backend.sync(snapshot(false)).ok());
        assertEquals(afterFirst.replace(":KUBE-MARK-MASQ - [0:0]\n", ":KUBE-MARK-MASQ - [0:0]\n:KUBE-SVC-LATECOMER0000000 - [0:0]\n")
                .lines().sorted().toList(), saveAll().lines().sorted().toList(),
                "only the first sync removes leftovers; later ones change nothing else");
    }

    @Test
    void cleanupRemovesOurJumpsChainsAndSetsOnlyAndReportsWhatItCouldNotRemove() throws IOException {
        run(inside, null, "ipset", "create", "foreign-set", "hash:ip");
        run(inside, null, "iptables", "-t", "nat", "-A", "PREROUTING", "-s", "198.51.100.7", "-j", "ACCEPT");
        assertEquals(List.of(), IpvsRules.cleanup(inside, IpFamily.IPV4), "nothing of ours yet: nothing fails");

        apply(snapshot(true));
        // Another mode's leftover still uses KUBE-MARK-MASQ: that chain cannot go, the rest can.
        run(inside, null, "iptables", "-t", "nat", "-N", "KUBE-SEP-LEFTOVER");
        run(inside, null, "iptables", "-t", "nat", "-A", "KUBE-SEP-LEFTOVER", "-j", "KUBE-MARK-MASQ");
        List<String> failures = IpvsRules.cleanup(inside, IpFamily.IPV4);
        assertEquals(1, failures.size(), failures.toString());
        assertTrue(failures.get(0).startsWith("iptables -t nat -X KUBE-MARK-MASQ"), failures.toString());

        assertEquals(new TreeSet<>(List.of("foreign-set")), setNames(), "every KUBE- set destroyed, the foreign one kept");
        String save = save();
        for (String chain : List.of("KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER",
                "KUBE-FORWARD", "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL", "KUBE-IPVS-FILTER",
                "KUBE-IPVS-OUT-FILTER")) {
            assertFalse(save.contains(":" + chain + " "), chain + " left in\n" + save);
        }
        assertFalse(save.contains("comment --comment \"kubernetes"), "no jump of ours left\n" + save);
        assertTrue(save.contains("-A PREROUTING -s 198.51.100.7/32 -j ACCEPT\n"));
        assertTrue(save.contains("-A KUBE-SEP-LEFTOVER -j KUBE-MARK-MASQ\n"));
    }
}
