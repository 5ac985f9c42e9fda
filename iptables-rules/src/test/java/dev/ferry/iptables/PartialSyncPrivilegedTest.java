package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpFamily;
import dev.ferry.core.SyncResult;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.NetNamespace;
import io.fabric8.kubernetes.api.model.Service;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Partial syncs, the canary and ip6tables on the real kernel, in a throwaway network namespace. */
@Tag("privileged")
class PartialSyncPrivilegedTest {

    private NetNamespace ns;
    private final Service svc1 = Svc.of("ns1", "svc1", "NodePort", "172.30.0.41").p80(3001).build();
    private final Service svc2 = Svc.of("ns2", "svc2", "ClusterIP", "172.30.0.42").p80(0).build();
    private final IptablesConfig config = IptablesRuleWriterTest.CLUSTER_CIDR;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(NetNamespace.isRoot(), "needs root to create network namespaces and run iptables");
        ns = NetNamespace.create();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (ns != null) {
            ns.close();
        }
    }

    /** Packet counter of the first rule of a nat chain, from iptables-save -c. */
    private long counter(String chain) throws Exception {
        Matcher m = Pattern.compile("(?m)^\\[(\\d+):\\d+\\] -A " + Pattern.quote(chain) + " ").matcher(
                ns.exec(null, "iptables-save", "-c", "-t", "nat"));
        assertTrue(m.find(), "no rule in " + chain);
        return Long.parseLong(m.group(1));
    }

    @Test
    void partialSyncRewritesOnlyChangedChainsAndKeepsCountersOfTheRest() throws Exception {
        IptablesBackend backend = TestBackends.inNamespace(ns, IpFamily.IPV4, config, ns.runner).build();
        TestSnapshots t = new TestSnapshots().add(svc1, svc2)
                .add(Fixtures.slice("ns1", "s1", "svc1", "p80", 80, "TCP", Ep.ready("10.0.1.1")),
                        Fixtures.slice("ns2", "s2", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.1")));
        SyncResult first = backend.sync(t.snapshot());
        assertTrue(first.ok() && first.full(), first.error());
        assertEquals("1", ns.exec(null, "sysctl", "-n", "net.ipv4.conf.all.route_localnet").strip(),
                "localhost NodePorts: route_localnet set in the namespace");

        String svc1Chain = ChainNames.service(new dev.ferry.core.ServicePortName("ns1", "svc1", "p80", dev.ferry.core.Protocol.TCP));
        String svc2Chain = ChainNames.service(new dev.ferry.core.ServicePortName("ns2", "svc2", "p80", dev.ferry.core.Protocol.TCP));
        // Give both service chains traffic (from the namespace itself: nat OUTPUT), so counters move.
        ns.exec(null, "ip", "link", "set", "lo", "up");
        ns.exec(null, "ip", "route", "add", "172.30.0.0/16", "dev", "lo");
        ns.exec(null, "ip", "route", "add", "10.0.0.0/8", "dev", "lo");
        for (String ip : List.of("172.30.0.41", "172.30.0.42")) {
            ns.runner.run(List.of("timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/" + ip + "/80"), null);
        }
        long before1 = counter(svc1Chain);
        long before2 = counter(svc2Chain);
        assertTrue(before1 > 0 && before2 > 0, "traffic went through both chains: " + before1 + ", " + before2);

        t.add(Fixtures.slice("ns2", "s2b", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.2")));
        SyncResult partial = backend.sync(t.snapshot());
        assertTrue(partial.ok() && !partial.full(), partial.error());
        assertEquals(before1, counter(svc1Chain), "untouched chain keeps its counters");
        assertEquals(0, counter(svc2Chain), "the rewritten chain starts again");
        Flows.run(IptablesDump.parse(ns.save("iptables-save", "nat", "filter")), List.of(
                Flows.Flow.tcp("svc2 both", "10.0.0.2", "172.30.0.42", 80, "10.0.2.1:80, 10.0.2.2:80", false),
                Flows.Flow.tcp("svc1", "10.0.0.2", "172.30.0.41", 80, "10.0.1.1:80", false)));

        // Removing svc1 deletes its chains in a partial sync.
        t.remove(svc1);
        SyncResult removed = backend.sync(t.snapshot());
        assertTrue(removed.ok() && !removed.full(), removed.error());
        assertFalse(ns.save("iptables-save", "nat").contains(svc1Chain));
    }

    @Test
    void flushedRulesAreNoticedByTheCanaryAndRebuilt() throws Exception {
        IptablesBackend backend = TestBackends.inNamespace(ns, IpFamily.IPV4, config, ns.runner).build();
        TestSnapshots t = new TestSnapshots().add(svc2)
                .add(Fixtures.slice("ns2", "s2", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.1")));
        assertTrue(backend.sync(t.snapshot()).ok());
        String saved = ns.save("iptables-save", "mangle", "nat", "filter");
        assertEquals(3, saved.split(":KUBE-PROXY-CANARY ", -1).length - 1, saved);
        String good = ns.save("iptables-save", "nat", "filter");

        for (String table : List.of("mangle", "nat")) { // a flush of every table reaches mangle's canary
            ns.exec(null, "iptables", "-t", table, "-F");
            ns.exec(null, "iptables", "-t", table, "-X");
        }
        SyncResult r = backend.sync(t.snapshot());
        assertTrue(r.ok() && r.full(), "the canary is gone: full sync. " + r.error());
        assertEquals(good, ns.save("iptables-save", "nat", "filter"), "everything is back as it was");
    }

    @Test
    void natFlushedAloneFailsThePartialRestoreAndTheNextSyncRebuilds() throws Exception {
        IptablesBackend backend = TestBackends.inNamespace(ns, IpFamily.IPV4, config, ns.runner).build();
        TestSnapshots t = new TestSnapshots().add(svc2)
                .add(Fixtures.slice("ns2", "s2", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.1")));
        assertTrue(backend.sync(t.snapshot()).ok());

        // Only nat is flushed: mangle's canary stays. An idle sync (nothing to write) also checks
        // the nat and filter canaries and rebuilds everything at once.
        ns.exec(null, "iptables", "-t", "nat", "-F");
        ns.exec(null, "iptables", "-t", "nat", "-X");
        SyncResult idle = backend.sync(t.snapshot());
        assertTrue(idle.ok() && idle.full(), "idle sync notices the flushed nat table: " + idle.error());
        assertEquals(freshRules(t), rules(ns), "an idle sync put everything back");

        // Flushed again, but this time a change comes first: the partial restore runs and is
        // rejected (the SVC chain jumps to KUBE-MARK-MASQ, which no longer exists).
        ns.exec(null, "iptables", "-t", "nat", "-F");
        ns.exec(null, "iptables", "-t", "nat", "-X");
        t.add(Fixtures.slice("ns2", "s2b", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.2")));
        SyncResult failed = backend.sync(t.snapshot());
        assertFalse(failed.ok(), "the partial restore cannot apply onto a flushed nat table");
        SyncResult r = backend.sync(t.snapshot());
        assertTrue(r.ok() && r.full(), "after a failure: full sync. " + r.error());
        assertEquals(freshRules(t), rules(ns), "everything is back as a fresh full sync writes it");
    }

    /**
     * Random sequences of changes on the real kernel, each followed by a partial sync: after
     * every one, iptables-save shows exactly what one full sync of the same snapshot writes into
     * a fresh namespace (per chain, in order; counters aside).
     */
    @Test
    void randomPartialSyncsLeaveWhatAFullSyncWrites() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            // a node of its own per seed: --cleanup keeps the kubelet's KUBE-FIREWALL and its jumps, and the
            // next first sync would prepend its own jumps before them, unlike a fresh node
            try (NetNamespace node = NetNamespace.create()) {
                IptablesBackend backend = TestBackends.inNamespace(node, IpFamily.IPV4, config, node.runner).build();
                RandomChanges c = new RandomChanges(seed);
                SyncResult first = backend.sync(c.snapshots.snapshot());
                assertTrue(first.ok() && first.full(), first.error());
                for (int step = 0; step < 6; step++) {
                    SyncResult r = backend.sync(c.step().snapshots.snapshot());
                    assertTrue(r.ok() && !r.full(), r.error() + "\n" + String.join("\n", c.log));
                    assertEquals(freshRules(c.snapshots), rules(node), String.join("\n", c.log));
                }
                assertTrue(backend.cleanup().ok());
            }
        }
    }

    /** nat and filter as iptables-save shows them, normalised: chains as a set, rules per chain in order. */
    private static String rules(NetNamespace in) throws Exception {
        return Golden.normalize(in.save("iptables-save", "nat", "filter"));
    }

    /** The rules one full sync of this snapshot writes into a fresh namespace. */
    private String freshRules(TestSnapshots t) throws Exception {
        try (NetNamespace fresh = NetNamespace.create()) {
            SyncResult r = TestBackends.inNamespace(fresh, IpFamily.IPV4, config, fresh.runner).build().sync(t.snapshot());
            assertTrue(r.ok() && r.full(), r.error());
            return rules(fresh);
        }
    }

    @Test
    void ipv6ExternalTrafficWithIp6tables() throws Exception {
        IptablesConfig v6 = IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("fd00:10::/64")));
        ns.exec(null, "sysctl", "-w", "net.ipv4.conf.all.route_localnet=0");
        IptablesBackend backend = TestBackends.inNamespace(ns, IpFamily.IPV6, v6, ns.runner).build();
        TestSnapshots t = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "fd00:172:30::41").p80(3001).lb("2001:db8:2::1")
                        .sourceRanges("2001:db8:9::/64").externalIPs("2001:db8:3::1").etpLocal(30001).build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("fd00:10:180::1").onNode(TestSnapshots.NODE)));
        SyncResult r = backend.sync(t.snapshot());
        assertTrue(r.ok(), r.error());
        assertTrue(backend.sync(t.snapshot()).ok(), "a partial resync applies too");
        String saved = ns.save("ip6tables-save", "nat", "filter");
        assertTrue(saved.contains("-j DNAT --to-destination [fd00:10:180::1]:80"), saved);
        assertFalse(saved.contains("127.0.0.0/8"), saved);
        assertEquals("0", ns.exec(null, "sysctl", "-n", "net.ipv4.conf.all.route_localnet").strip(), "no route_localnet for IPv6");
        Flows.run(IptablesDump.parse(saved), List.of(
                Flows.Flow.tcp("LB IP, allowed source, local endpoint", "2001:db8:9::5", "2001:db8:2::1", 80, "[fd00:10:180::1]:80", false),
                Flows.Flow.tcp("LB IP, denied source", "2001:db8:8::5", "2001:db8:2::1", 80, "DROP", false),
                Flows.Flow.tcp("external IP", "2001:db8:8::5", "2001:db8:3::1", 80, "[fd00:10:180::1]:80", false),
                Flows.Flow.tcp("NodePort", "2001:db8:8::5", "2001:db8::1", 3001, "[fd00:10:180::1]:80", false)));
        assertTrue(backend.cleanup().ok());
        String clean = ns.save("ip6tables-save", "nat", "filter", "mangle");
        assertEquals(List.of(":KUBE-FIREWALL - [0:0]", "-A INPUT -j KUBE-FIREWALL", "-A OUTPUT -j KUBE-FIREWALL"),
                ns.lines(clean).stream().filter(l -> l.contains("KUBE-")).toList(), "only the kubelet's chain is left");
    }
}
