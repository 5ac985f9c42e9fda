package dev.ferry.iptables;

import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpFamily;
import dev.ferry.core.SyncResult;
import dev.ferry.netfilter.FakeRunner;
import dev.ferry.netfilter.IptablesDump;
import io.fabric8.kubernetes.api.model.Service;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Upstream TestSyncProxyRulesRepeated: which syncs are partial, and what a partial one writes. */
class PartialSyncTest {

    private final Service svc1 = Svc.of("ns1", "svc1", "NodePort", "172.30.0.41").p80(3001).build();
    private final Service svc2 = Svc.of("ns2", "svc2", "ClusterIP", "172.30.0.42").p80(0).build();
    private final Service svc3 = Svc.of("ns3", "svc3", "ClusterIP", "172.30.0.43").p80(0).build();
    private final String sepSvc1 = "KUBE-SEP-" + ChainNames.hash16("ns1/svc1:p80tcp10.0.1.1:80");

    private static long saves(FakeRunner fake) {
        return fake.commands.stream().filter(c -> c.get(0).endsWith("-save")).count();
    }

    @Test
    void partialSyncsWriteOnlyChangedServicesAndKeepTheRest() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        AtomicLong clock = new AtomicLong();
        IptablesBackend backend = TestBackends.builder(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake)
                .nanoClock(clock::get).fullSyncPeriod(Duration.ofHours(1)).build();
        TestSnapshots t = new TestSnapshots().add(svc1, svc2)
                .add(Fixtures.slice("ns1", "s1", "svc1", "p80", 80, "TCP", Ep.ready("10.0.1.1")),
                        Fixtures.slice("ns2", "s2", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.1")));
        SyncResult first = backend.sync(t.snapshot());
        assertTrue(first.ok() && first.full(), first.error());
        assertEquals(2, saves(fake), "the first sync reads nat and filter");

        // Nothing changed: partial, nothing to write so no iptables-restore, the canary checked,
        // no iptables-save.
        SyncResult idle = backend.sync(t.snapshot());
        assertTrue(idle.ok() && !idle.full(), idle.error());
        assertEquals(1, fake.restored.size(), "nothing to write: no iptables-restore");
        assertEquals(2, saves(fake), "no iptables-save for a partial sync");
        assertTrue(fake.commands.stream().anyMatch(c -> c.equals(List.of("iptables", "-w", "5", "-W", "100000",
                "-t", "mangle", "-S", ChainNames.CANARY))));
        IptablesDump afterIdle = fake.state;
        assertTrue(afterIdle.table("nat").has(sepSvc1), "untouched chains stay");

        // svc2's endpoint changes and svc3 appears: only their chains are written, and nat
        // KUBE-SERVICES (svc3's entry is new), whole.
        t.add(Fixtures.slice("ns2", "s2b", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.2"))).add(svc3)
                .add(Fixtures.slice("ns3", "s3", "svc3", "p80", 80, "TCP", Ep.ready("10.0.3.1")));
        SyncResult partial = backend.sync(t.snapshot());
        assertTrue(partial.ok() && !partial.full(), partial.error());
        String p = fake.restored.get(1);
        assertTrue(p.contains("-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\""), "KUBE-SERVICES rewritten whole:\n" + p);
        assertFalse(p.contains(":KUBE-NODEPORTS") || p.contains("*filter"), "unchanged shared chains are not written:\n" + p);
        assertTrue(p.contains(":" + ChainNames.service(name("ns2", "svc2")) + " "), p);
        assertTrue(p.contains(":" + ChainNames.service(name("ns3", "svc3")) + " "), p);
        assertFalse(p.contains(":" + ChainNames.service(name("ns1", "svc1")) + " "), p);
        assertFalse(p.contains(sepSvc1), p);
        Flows.run(fake.state, List.of(
                Flows.Flow.tcp("svc1 untouched", "10.0.0.2", "172.30.0.41", 80, "10.0.1.1:80", false),
                Flows.Flow.tcp("svc2 both", "10.0.0.2", "172.30.0.42", 80, "10.0.2.1:80, 10.0.2.2:80", false),
                Flows.Flow.tcp("svc3 new", "10.0.0.2", "172.30.0.43", 80, "10.0.3.1:80", false),
                Flows.Flow.tcp("svc1 NodePort", "203.0.113.2", "192.168.0.2", 3001, "10.0.1.1:80", true)));

        // svc1 goes away: its chains are deleted in a partial sync.
        t.remove(svc1);
        SyncResult removed = backend.sync(t.snapshot());
        assertTrue(removed.ok() && !removed.full(), removed.error());
        p = fake.restored.get(2);
        assertTrue(p.contains("-X " + sepSvc1 + "\n") && p.contains("-X " + ChainNames.service(name("ns1", "svc1")) + "\n"), p);
        assertFalse(fake.state.table("nat").has(sepSvc1));
        assertEquals(2, saves(fake));
        assertEquals(fake.state.toSaveText(), rulesAfterFreshSync(t), "partial syncs left what a full sync writes");

        // An hour later: full, with a fresh read of the node.
        clock.addAndGet(Duration.ofHours(1).toNanos());
        SyncResult hourly = backend.sync(t.snapshot());
        assertTrue(hourly.ok() && hourly.full(), hourly.error());
        assertEquals(4, saves(fake));
        assertEquals(fake.state.toSaveText(), rulesAfterFreshSync(t), "partial syncs left exactly what a full sync writes");
    }

    /** What one full sync on an empty node produces for the same snapshot. */
    private static String rulesAfterFreshSync(TestSnapshots t) {
        FakeRunner fresh = new FakeRunner(IptablesDump.empty());
        assertTrue(TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fresh).sync(t.snapshot()).ok());
        return fresh.state.toSaveText();
    }

    @Test
    void missingCanaryForcesAFullSyncWithARead() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
        TestSnapshots t = new TestSnapshots().add(svc2)
                .add(Fixtures.slice("ns2", "s2", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.1")));
        assertTrue(backend.sync(t.snapshot()).ok());
        assertTrue(fake.state.table("mangle").has(ChainNames.CANARY));
        assertTrue(fake.state.table("nat").has(ChainNames.CANARY) && fake.state.table("filter").has(ChainNames.CANARY));

        // Someone flushes and deletes everything (iptables -t T -F; -X for each table; a firewall
        // reload): the canary is checked in mangle, as upstream does.
        fake.state = fake.state.apply(flushTable(fake.state, "mangle"));
        fake.state = fake.state.apply(flushTable(fake.state, "nat"));
        SyncResult r = backend.sync(t.snapshot());
        assertTrue(r.ok() && r.full(), "canary gone: full sync");
        assertEquals(4, saves(fake), "and a fresh read");
        Flows.run(fake.state, List.of(Flows.Flow.tcp("rebuilt", "10.0.0.2", "172.30.0.42", 80, "10.0.2.1:80", false)));
        assertTrue(fake.state.table("nat").has(ChainNames.CANARY));
    }

    /**
     * The common case the shared-chain cache is for: one endpoint of one Service moves (same
     * count, same chains). Only that Service's SVC chain and the new and old SEP chains are
     * written: no shared chain, no filter table.
     */
    @Test
    void endpointOnlyChangeWritesOnlyThatServicesChains() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
        RandomChanges c = new RandomChanges(7);
        for (int i = 0; i < RandomChanges.SERVICES; i++) {
            c.moveOneEndpoint(i, 0);
        }
        c.snapshots.add(svc1); // the ns1/svc1 of this class is RandomChanges' svc1 as a NodePort
        assertTrue(backend.sync(c.snapshots.snapshot()).ok());
        for (int round = 1; round <= 3; round++) {
            SyncResult r = backend.sync(c.moveOneEndpoint(1, round).snapshots.snapshot());
            assertTrue(r.ok() && !r.full(), r.error());
            String p = fake.restored.get(round);
            String svc = ChainNames.service(name("ns1", "svc1"));
            String oldSep = "KUBE-SEP-" + ChainNames.hash16("ns1/svc1:p80tcp10.2.1." + round + ":80");
            String newSep = "KUBE-SEP-" + ChainNames.hash16("ns1/svc1:p80tcp10.2.1." + (1 + round) + ":80");
            assertTrue(p.startsWith("*nat\n"), "no filter table:\n" + p);
            List<String> declared = p.lines().filter(l -> l.startsWith(":")).map(l -> l.substring(1, l.indexOf(' '))).sorted().toList();
            String ext = ChainNames.external(name("ns1", "svc1")); // a NodePort: its EXT chain is its own too
            assertEquals(java.util.stream.Stream.of(svc, ext, oldSep, newSep).sorted().toList(), declared, p);
            assertFalse(p.contains("KUBE-SERVICES") || p.contains("KUBE-NODEPORTS") || p.contains("KUBE-POSTROUTING"), p);
            assertTrue(p.contains("-X " + oldSep + "\n"), p);
            assertEquals(Golden.normalize(rulesAfterFreshSync(c.snapshots)), Golden.normalize(fake.state.toSaveText()), String.join("\n", c.log));
        }
    }

    /**
     * Random sequences of changes, each followed by a partial sync: after every one the rules
     * are exactly what one full sync of the same snapshot writes onto an empty node.
     */
    @Test
    void randomPartialSyncsLeaveWhatAFullSyncWrites() {
        for (long seed = 1; seed <= 40; seed++) {
            FakeRunner fake = new FakeRunner(IptablesDump.empty());
            IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
            RandomChanges c = new RandomChanges(seed);
            assertTrue(backend.sync(c.snapshots.snapshot()).ok());
            for (int step = 0; step < 12; step++) {
                SyncResult r = backend.sync(c.step().snapshots.snapshot());
                assertTrue(r.ok() && !r.full(), r.error() + "\n" + String.join("\n", c.log));
                assertEquals(Golden.normalize(rulesAfterFreshSync(c.snapshots)), Golden.normalize(fake.state.toSaveText()), String.join("\n", c.log));
            }
        }
    }

    @Test
    void failureMakesTheNextSyncFullWithARead() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
        // svc3 has no endpoints yet: a REJECT in filter KUBE-SERVICES, which its first endpoint
        // removes, so the failing partial payload has a filter part to roll back.
        TestSnapshots t = new TestSnapshots().add(svc2, svc3)
                .add(Fixtures.slice("ns2", "s2", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.1")));
        assertTrue(backend.sync(t.snapshot()).ok());
        t.add(Fixtures.slice("ns2", "s2b", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.2")))
                .add(Fixtures.slice("ns3", "s3", "svc3", "p80", 80, "TCP", Ep.ready("10.0.3.1")));
        fake.failRestoreWith = "iptables-restore: line 30 failed\n"; // in the nat part
        fake.failRestores = 1;
        SyncResult failed = backend.sync(t.snapshot());
        assertFalse(failed.ok());
        assertFalse(failed.full(), "the failed sync was partial");
        assertTrue(failed.error().contains("filter table rolled back"), failed.error());
        fake.failRestoreWith = null;
        SyncResult next = backend.sync(t.snapshot());
        assertTrue(next.ok() && next.full(), next.error());
        assertEquals(4, saves(fake));
        Flows.run(fake.state, List.of(Flows.Flow.tcp("both", "10.0.0.2", "172.30.0.42", 80, "10.0.2.1:80, 10.0.2.2:80", false),
                Flows.Flow.tcp("svc3", "10.0.0.2", "172.30.0.43", 80, "10.0.3.1:80", false)));
    }

    @Test
    void nodeChangeForcesAFullSyncWithoutARead() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
        TestSnapshots t = new TestSnapshots().add(svc2)
                .add(Fixtures.slice("ns2", "s2", "svc2", "p80", 80, "TCP", Ep.ready("10.0.2.1")));
        assertTrue(backend.sync(t.snapshot()).ok());
        t.node(Fixtures.node(TestSnapshots.NODE, java.util.Map.of(dev.ferry.core.NodeInfo.ZONE_LABEL, "z")));
        SyncResult r = backend.sync(t.snapshot());
        assertTrue(r.ok() && r.full());
        assertEquals(2, saves(fake), "we know what is on the node: no read");
        assertTrue(fake.restored.get(1).contains(":" + ChainNames.service(name("ns2", "svc2")) + " "));
    }

    @Test
    void localhostNodePortsSetRouteLocalnet() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        TestBackends.FakeSysctls sysctls = new TestBackends.FakeSysctls();
        sysctls.values.put(IptablesBackend.TCP_BE_LIBERAL, 1L);
        IptablesBackend backend = TestBackends.builder(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake)
                .sysctls(sysctls).build();
        assertTrue(backend.sync(new TestSnapshots().snapshot()).ok());
        assertEquals(1L, sysctls.values.get(IptablesBackend.ROUTE_LOCALNET));
        assertFalse(fake.restored.get(0).contains("INVALID"), "tcp_be_liberal: no INVALID drop");

        for (IptablesConfig off : List.of(ExternalTrafficTest.withNodePorts(IptablesRuleWriterTest.CLUSTER_CIDR, false),
                ExternalTrafficTest.withNodePorts(IptablesRuleWriterTest.CLUSTER_CIDR, true, "192.168.0.0/16"))) {
            TestBackends.FakeSysctls untouched = new TestBackends.FakeSysctls();
            assertTrue(TestBackends.builder(IpFamily.IPV4, off, new FakeRunner(IptablesDump.empty())).sysctls(untouched)
                    .build().sync(new TestSnapshots().snapshot()).ok());
            assertFalse(untouched.values.containsKey(IptablesBackend.ROUTE_LOCALNET), off.toString());
        }
        TestBackends.FakeSysctls v6 = new TestBackends.FakeSysctls();
        assertTrue(TestBackends.builder(IpFamily.IPV6, IptablesConfig.defaults(), new FakeRunner(IptablesDump.empty()))
                .sysctls(v6).build().sync(new TestSnapshots().snapshot()).ok());
        assertFalse(v6.values.containsKey(IptablesBackend.ROUTE_LOCALNET), "never for IPv6");
    }

    private static dev.ferry.core.ServicePortName name(String ns, String svc) {
        return new dev.ferry.core.ServicePortName(ns, svc, "p80", dev.ferry.core.Protocol.TCP);
    }

    private static String flushTable(IptablesDump dump, String table) {
        StringBuilder sb = new StringBuilder("*").append(table).append('\n');
        StringBuilder deletes = new StringBuilder();
        for (IptablesDump.Chain c : dump.table(table).chains().values()) {
            if (c.builtIn()) {
                for (IptablesDump.Rule r : c.rules()) {
                    deletes.append("-D ").append(r.text().substring(3)).append('\n');
                }
            } else {
                sb.append(':').append(c.name()).append(" - [0:0]\n");
                deletes.append("-X ").append(c.name()).append('\n');
            }
        }
        return sb.append(deletes).append("COMMIT\n").toString();
    }
}
