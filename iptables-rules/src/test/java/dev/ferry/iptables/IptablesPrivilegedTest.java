package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.SyncResult;
import dev.ferry.mode.inspect.PacketTracer;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.KubeletChains;
import dev.ferry.netfilter.NetNamespace;
import io.fabric8.kubernetes.api.model.Service;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Real iptables-restore / iptables-save in a throwaway network namespace. */
@Tag("privileged")
public class IptablesPrivilegedTest {

    /** What an admin and Docker put on the node before us (the portal tests use it too). */
    public static final String FOREIGN = """
            *filter
            :DOCKER - [0:0]
            -A INPUT -s 1.2.3.4/32 -j ACCEPT
            -A FORWARD -o docker0 -j DOCKER
            -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
            COMMIT
            *nat
            :DOCKER - [0:0]
            -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
            -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
            -A DOCKER -i docker0 -j RETURN
            COMMIT
            """;

    private NetNamespace ns;
    private final Service svc4 = Fixtures.clusterIPService("ns4", "svc4", "172.30.0.44", "p80", 80, "TCP");
    private final Service svc6 = Fixtures.clusterIPService("ns6", "svc6", "172.30.0.46", "p80", 80, "TCP");

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(NetNamespace.isRoot(), "needs root to create network namespaces and run iptables");
        ns = NetNamespace.create();
        ns.exec(FOREIGN, "iptables-restore", "--noflush");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (ns != null) {
            ns.close();
        }
    }

    private List<String> foreignLines() throws Exception {
        return ns.lines(ns.save("iptables-save", "filter", "nat")).stream()
                .filter(l -> l.contains("DOCKER") || l.contains("1.2.3.4") || l.contains("172.17.0.0/16")).toList();
    }

    @Test
    void syncResyncAndCleanupOnTheRealKernel() throws Exception {
        List<String> foreign = foreignLines();
        assertEquals(8, foreign.size(), foreign.toString());
        IptablesBackend backend = TestBackends.inNamespace(ns, IpFamily.IPV4,
                IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("10.0.0.0/8"))), ns.runner).build();
        TestSnapshots t = new TestSnapshots().add(svc4, svc6)
                .add(Fixtures.slice("ns4", "s", "svc4", "p80", 80, "TCP", Ep.ready("10.180.0.4"), Ep.ready("10.180.0.5")));
        SyncResult r = backend.sync(t.snapshot());
        assertTrue(r.ok(), r.error());

        String saved = ns.save("iptables-save", "filter", "nat");
        for (String line : List.of(
                // upstream's example, as iptables-save prints it back
                "-A KUBE-SERVICES -d 172.30.0.44/32 -p tcp -m comment --comment \"ns4/svc4:p80 cluster IP\" -m tcp --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK",
                "-A KUBE-SVC-4SW47YFZTEDKD3PK ! -s 10.0.0.0/8 -d 172.30.0.44/32 -p tcp -m comment --comment \"ns4/svc4:p80 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ",
                "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.4:80\" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC",
                "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.5:80\" -j KUBE-SEP-C6EBXVWJJZMIWKLZ",
                "-A KUBE-SEP-UKSFD7AGPMPPLUHC -s 10.180.0.4/32 -m comment --comment \"ns4/svc4:p80\" -j KUBE-MARK-MASQ",
                "-A KUBE-SEP-UKSFD7AGPMPPLUHC -p tcp -m comment --comment \"ns4/svc4:p80\" -m tcp -j DNAT --to-destination 10.180.0.4:80",
                "-A KUBE-SERVICES -d 172.30.0.46/32 -p tcp -m comment --comment \"ns6/svc6:p80 has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable",
                "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
                "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
                "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully")) {
            assertTrue(saved.contains(line + "\n"), "missing: " + line + "\nin:\n" + saved);
        }
        assertEquals(foreign, foreignLines(), "Docker's and the admin's rules survive a sync");
        assertTrue(ns.lines(saved).indexOf("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES")
                < ns.lines(saved).indexOf("-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"), "our jump is prepended");

        // The tracer reads the real kernel's dump.
        // (Docker's rules match on interfaces, which the tracer does not model: leave them out.)
        IptablesDump real = IptablesDump.parse(ns.lines(saved).stream().filter(l -> !l.contains("docker0"))
                .collect(java.util.stream.Collectors.joining("\n", "", "\n")));
        Flows.run(real, List.of(
                Flows.Flow.tcp("pod to cluster IP", "10.0.0.2", "172.30.0.44", 80, "10.180.0.4:80, 10.180.0.5:80", false),
                Flows.Flow.tcp("no endpoints", "10.0.0.2", "172.30.0.46", 80, "REJECT", false)));

        // Hairpin: only the path back to the sending endpoint itself is masqueraded.
        var hairpin = new PacketTracer(real, List.of(IpAddresses.parse("192.168.0.2"))).trace(new PacketTracer.Packet(
                IpFamily.IPV4, Protocol.TCP, IpAddresses.parse("10.180.0.4"), IpAddresses.parse("172.30.0.44"), 80,
                PacketTracer.Origin.EXTERNAL));
        assertEquals(2, hairpin.size(), hairpin.toString());
        for (var o : hairpin) {
            assertEquals(o.dnatDestination().equals("10.180.0.4:80"), o.masqueraded(), o.toString());
            assertEquals(0.5, o.probability(), 1e-9);
        }

        // Resync: nothing changes, no duplicate jump rules.
        assertTrue(backend.sync(t.snapshot()).ok());
        assertEquals(saved, ns.save("iptables-save", "filter", "nat"));

        // Service removed: its chains go.
        assertTrue(backend.sync(t.remove(svc4).snapshot()).ok());
        String afterRemove = ns.save("iptables-save", "filter", "nat");
        assertFalse(afterRemove.contains("KUBE-SVC-4SW47YFZTEDKD3PK"), afterRemove);
        assertFalse(afterRemove.contains("KUBE-SEP-"), afterRemove);
        assertEquals(foreign, foreignLines());

        SyncResult c = backend.cleanup();
        assertTrue(c.ok(), c.error());
        String clean = ns.save("iptables-save", "filter", "nat", "mangle");
        // Upstream writes the kubelet's KUBE-FIREWALL too, and leaves it at cleanup: the kubelet owns it.
        assertEquals(List.of(":KUBE-FIREWALL - [0:0]", "-A INPUT -j KUBE-FIREWALL", "-A OUTPUT -j KUBE-FIREWALL",
                "-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP"),
                ns.lines(clean).stream().filter(l -> l.contains("KUBE-")).toList(), clean);
        assertEquals(foreign, foreignLines(), "cleanup leaves Docker's and the admin's rules");
        assertTrue(backend.cleanup().ok(), "cleanup twice is fine");
    }

    /** The kubelet's chains, rules and jumps, byte for byte, through a sync and --cleanup (upstream keeps them too). */
    @Test
    void theKubeletsChainsSurviveASyncAndCleanupUnchanged() throws Exception {
        ns.exec(KubeletChains.RULES, "iptables-restore", "--noflush");
        List<String> kubelet = KubeletChains.lines(ns.save("iptables-save", "mangle", "filter", "nat"));
        assertEquals(10, kubelet.size(), kubelet.toString());
        IptablesBackend backend = TestBackends.inNamespace(ns, IpFamily.IPV4, IptablesConfig.defaults(), ns.runner).build();
        TestSnapshots t = new TestSnapshots().add(svc4, svc6)
                .add(Fixtures.slice("ns4", "s", "svc4", "p80", 80, "TCP", Ep.ready("10.180.0.4")));

        SyncResult r = backend.sync(t.snapshot());
        assertTrue(r.ok(), r.error());
        String synced = ns.save("iptables-save", "mangle", "filter", "nat");
        assertTrue(synced.contains(":KUBE-SERVICES") && synced.contains(":KUBE-PROXY-CANARY"), synced);
        assertEquals(kubelet, KubeletChains.lines(synced), "the first sync changed the kubelet's chains");

        SyncResult c = backend.cleanup();
        assertTrue(c.ok(), c.error());
        String clean = ns.save("iptables-save", "mangle", "filter", "nat");
        assertEquals(kubelet, KubeletChains.lines(clean), "--cleanup changed the kubelet's chains");
        assertEquals(kubelet.size(), ns.lines(clean).stream().filter(l -> l.contains("KUBE-")).count(),
                "nothing but the kubelet's is left:\n" + clean);
        assertEquals(8, foreignLines().size(), "Docker's and the admin's rules stay");
    }

    @Test
    void aRejectedPayloadLeavesNoPartialState() throws Exception {
        IptablesBackend good = TestBackends.inNamespace(ns, IpFamily.IPV4, IptablesConfig.defaults(), ns.runner).build();
        TestSnapshots t = new TestSnapshots().add(svc4)
                .add(Fixtures.slice("ns4", "s", "svc4", "p80", 80, "TCP", Ep.ready("10.180.0.4")));
        assertTrue(good.sync(t.snapshot()).ok());
        String before = ns.save("iptables-save", "filter", "nat");

        // A runner that corrupts the end of the nat section: restore must reject the whole payload.
        CommandRunner corrupting = (argv, stdin) -> {
            if (argv.get(0).endsWith("-restore") && new String(stdin, StandardCharsets.UTF_8).contains("*nat\n")) {
                String p = new String(stdin, StandardCharsets.UTF_8);
                int at = p.lastIndexOf("COMMIT");
                stdin = (p.substring(0, at) + "-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN\n" + p.substring(at))
                        .getBytes(StandardCharsets.UTF_8);
            }
            return ns.runner.run(argv, stdin);
        };
        IptablesBackend bad = TestBackends.inNamespace(ns, IpFamily.IPV4, IptablesConfig.defaults(), corrupting).build();
        TestSnapshots changed = new TestSnapshots().add(svc4, svc6)
                .add(Fixtures.slice("ns4", "s", "svc4", "p80", 80, "TCP", Ep.ready("10.180.0.5")));
        SyncResult r = bad.sync(changed.snapshot());
        assertFalse(r.ok());
        assertTrue(r.error().contains("failing line") && r.error().contains("KUBE-NO-SUCH-CHAIN"), r.error());
        // nf_tables commits table by table: the filter part went in before nat failed, and was undone.
        assertTrue(r.error().contains("(filter table rolled back)"), r.error());
        assertEquals(1, bad.restoreFailures());
        assertEquals(before, ns.save("iptables-save", "filter", "nat"), "nothing of the rejected payload was applied");
    }

    @Test
    void ipv6SyncAndCleanup() throws Exception {
        Service v6 = Fixtures.clusterIPService("ns1", "svc1", "fd00:172:30::41", "p80", 80, "TCP");
        IptablesBackend backend = TestBackends.inNamespace(ns, IpFamily.IPV6,
                IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("fd00:10::/64"))), ns.runner).build();
        SyncResult r = backend.sync(new TestSnapshots().add(v6)
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("fd00:10:180::1"))).snapshot());
        assertTrue(r.ok(), r.error());
        String saved = ns.save("ip6tables-save", "nat");
        assertTrue(saved.contains("-j DNAT --to-destination [fd00:10:180::1]:80"), saved);
        assertTrue(saved.contains("! -s fd00:10::/64 -d fd00:172:30::41/128"), saved);
        Flows.run(IptablesDump.parse(saved + ns.save("ip6tables-save", "filter")), List.of(
                Flows.Flow.tcp("pod to v6 cluster IP", "fd00:10::2", "fd00:172:30::41", 80, "[fd00:10:180::1]:80", false)));
        assertTrue(backend.cleanup().ok());
        String clean = ns.save("ip6tables-save", "nat", "filter", "mangle");
        // the kubelet's chain (empty for IPv6) that upstream's iptables mode ensures too: kept
        assertEquals(List.of(":KUBE-FIREWALL - [0:0]", "-A INPUT -j KUBE-FIREWALL", "-A OUTPUT -j KUBE-FIREWALL"),
                ns.lines(clean).stream().filter(l -> l.contains("KUBE-")).toList(), clean);
    }

    @Test
    void iptablesRestoreTestAcceptsPayloadsWithHostileNames() throws Exception {
        // Core validates names; the writer must not depend on it.
        var port = new dev.ferry.core.ServicePort(new dev.ferry.core.ServicePortName("ns\"x", "a b\n-j ACCEPT", "p\\", Protocol.UDP),
                List.of(IpAddresses.parse("172.30.0.9")), 53, 0, List.of(), List.of(), List.of(), 30, false, false, 0, "");
        var ep = dev.ferry.core.Endpoint.ready(IpAddresses.parse("10.1.1.1"), 53);
        var sel = new dev.ferry.core.EndpointSelection(List.of(ep), List.of(), List.of(ep), true);
        var state = new dev.ferry.core.ServicePortState(port, List.of(ep), sel, dev.ferry.core.EndpointSelection.NONE);
        var map = new java.util.TreeMap<dev.ferry.core.ServicePortName, dev.ferry.core.ServicePortState>(dev.ferry.core.ProxySnapshot.ORDER);
        map.put(port.name(), state);
        var snap = new dev.ferry.core.ProxySnapshot(1, new dev.ferry.core.NodeInfo("n", java.util.Map.of()), map, java.util.Set.of(), false);
        String payload = new IptablesRuleWriter(IpFamily.IPV4, IptablesConfig.defaults()).write(snap, IptablesDump.empty(), true);
        ns.exec(payload, "iptables-restore", "--test", "--noflush");
        assertTrue(TestBackends.inNamespace(ns, IpFamily.IPV4, IptablesConfig.defaults(), ns.runner).build().sync(snap).ok());
        String saved = ns.save("iptables-save", "nat");
        assertTrue(saved.contains("--comment \"ns_x/a b_-j ACCEPT:p_ cluster IP\""), saved);
        assertFalse(saved.contains("\n-j ACCEPT"), saved);
    }
}
