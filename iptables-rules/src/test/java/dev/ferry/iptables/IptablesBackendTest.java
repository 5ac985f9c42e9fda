package dev.ferry.iptables;

import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncGuard;
import dev.ferry.core.SyncResult;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.CommandRunners;
import dev.ferry.netfilter.FakeRunner;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.KubeChains;
import io.fabric8.kubernetes.api.model.Service;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IptablesBackendTest {

    private static final String FOREIGN = """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            :DOCKER - [0:0]
            -A INPUT -s 1.2.3.4/32 -j ACCEPT
            -A FORWARD -o docker0 -j DOCKER
            COMMIT
            *nat
            :PREROUTING ACCEPT [0:0]
            :INPUT ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            :DOCKER - [0:0]
            -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
            -A DOCKER -i docker0 -j RETURN
            COMMIT
            """;

    private final Service svc1 = Fixtures.clusterIPService("ns1", "svc1", "172.30.0.41", "p80", 80, "TCP");
    private final Service svc2 = Fixtures.clusterIPService("ns2", "svc2", "172.30.0.42", "p80", 80, "UDP");

    @Test
    void fullSyncWritesOnePayloadWithJumpsAndKeepsForeignRules() {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(FOREIGN));
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
        TestSnapshots t = new TestSnapshots().add(svc1)
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")));
        SyncResult r = backend.sync(t.snapshot());
        assertTrue(r.ok(), r.error());
        assertTrue(r.full());
        assertEquals(1, fake.restored.size());
        assertEquals(List.of("iptables-save", "-t", "nat"), fake.commands.get(0));
        assertEquals(List.of("iptables-save", "-t", "filter"), fake.commands.get(1));
        assertEquals(List.of("iptables-restore", "-w", "5", "-W", "100000", "--noflush", "--counters"), fake.commands.get(2));
        String payload = fake.restored.get(0);
        assertTrue(payload.startsWith("*mangle\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n*filter\n")
                && payload.contains("COMMIT\n*nat\n") && payload.endsWith("COMMIT\n"), payload);
        assertTrue(payload.contains("-I PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"), payload);
        assertTrue(payload.contains("-I FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"), payload);

        IptablesDump after = fake.state;
        assertEquals("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                after.table("nat").chain("PREROUTING").orElseThrow().rules().get(0).text());
        assertTrue(after.table("filter").chain("INPUT").orElseThrow().rules().stream()
                .anyMatch(rule -> rule.text().equals("-A INPUT -s 1.2.3.4/32 -j ACCEPT")));
        assertTrue(after.table("nat").has("DOCKER"));

        // A second sync finds the jumps and adds none; with nothing changed it restores nothing.
        assertTrue(backend.sync(t.snapshot()).ok());
        assertEquals(1, fake.restored.size(), "nothing changed: no iptables-restore");
        assertEquals(after.toSaveText(), fake.state.toSaveText(), "a resync changes nothing");
    }

    @Test
    void staleChainsAreFlushedAndDeleted() {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(FOREIGN));
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
        TestSnapshots t = new TestSnapshots().add(svc1, svc2)
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")),
                        Fixtures.slice("ns2", "s", "svc2", "p80", 80, "UDP", Ep.ready("10.180.0.2")));
        assertTrue(backend.sync(t.snapshot()).ok());
        ProxySnapshot first = t.snapshot();
        String svc2Chain = ChainNames.service(first.servicePortMap().lastKey());
        assertTrue(fake.state.table("nat").has(svc2Chain));
        assertTrue(backend.sync(t.remove(svc2).snapshot()).ok());
        String payload = fake.restored.get(fake.restored.size() - 1);
        assertTrue(payload.contains(":" + svc2Chain + " - [0:0]\n") && payload.contains("-X " + svc2Chain + "\n"), payload);
        assertFalse(fake.state.table("nat").has(svc2Chain));
        assertTrue(fake.state.table("nat").has(ChainNames.service(first.servicePortMap().firstKey())));
    }

    @Test
    void restoreFailureIsReportedCountedAndForcesAFullSync() {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(FOREIGN));
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesConfig.defaults(), fake);
        ProxySnapshot snap = new TestSnapshots().add(svc1).snapshot();
        assertTrue(backend.sync(snap).ok());
        String before = fake.state.toSaveText();

        // svc1 gets an endpoint: its REJECT leaves filter KUBE-SERVICES, so the partial payload
        // starts "*filter", ":KUBE-SERVICES - [0:0]".
        ProxySnapshot changed = new TestSnapshots().add(svc1)
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1"))).snapshot();
        fake.failRestoreWith = "iptables-restore v1.8.9 (nf_tables): Chain 'NOPE' does not exist\nError occurred at line: 2\n";
        SyncResult r = backend.sync(changed);
        assertFalse(r.ok());
        assertFalse(r.full());
        assertTrue(r.error().contains("Chain 'NOPE' does not exist"), r.error());
        assertTrue(r.error().contains("failing line 2: :KUBE-SERVICES - [0:0]"), r.error());
        assertEquals(1, backend.restoreFailures());
        assertEquals(before, fake.state.toSaveText(), "rules stay as they were");

        fake.failRestoreWith = null;
        // Pretend the jump rules vanished: the next (full) sync must add them back.
        fake.state = IptablesDump.parse(FOREIGN);
        SyncResult again = backend.sync(snap);
        assertTrue(again.ok() && again.full());
        assertTrue(fake.restored.get(fake.restored.size() - 1).contains("-I PREROUTING"));
    }

    /**
     * Rules in the KUBE-* chains of one table, as the node holds them (what "owned" counts, as upstream's
     * kubeproxy_sync_proxy_rules_iptables_total: with the kubelet's KUBE-FIREWALL rule this mode writes too).
     */
    private static int ownedRules(IptablesDump dump, String table) {
        return dump.table(table).chains().values().stream().filter(c -> c.name().startsWith(KubeChains.PREFIX))
                .mapToInt(c -> c.rules().size()).sum();
    }

    @Test
    void reportsRulesOwnedAndWrittenPerTableAndWhetherTheApplyFailed() {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(FOREIGN));
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
        TestSnapshots t = new TestSnapshots().add(svc1, svc2)
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")),
                        Fixtures.slice("ns2", "s", "svc2", "p80", 80, "UDP", Ep.ready("10.180.0.2")));
        SyncResult full = backend.sync(t.snapshot());
        assertTrue(full.ok() && full.full(), full.error());
        assertEquals(ownedRules(fake.state, "nat"), full.owned().get("nat"));
        assertEquals(ownedRules(fake.state, "filter"), full.owned().get("filter"));
        assertEquals(full.owned(), full.written(), "a full sync writes every rule of our chains");

        t.add(Fixtures.slice("ns2", "s", "svc2", "p80", 80, "UDP", Ep.ready("10.180.0.2"), Ep.ready("10.180.0.3")));
        SyncResult partial = backend.sync(t.snapshot());
        assertTrue(partial.ok() && !partial.full(), partial.error());
        assertEquals(ownedRules(fake.state, "nat"), partial.owned().get("nat"), "unchanged svc1 still counts");
        assertTrue(partial.written().get("nat") < partial.owned().get("nat"),
                partial.written() + " vs " + partial.owned());
        assertFalse(partial.applyFailed());

        t.add(Fixtures.slice("ns2", "s", "svc2", "p80", 80, "UDP", Ep.ready("10.180.0.4")));
        fake.failRestoreWith = "iptables-restore: line 2 failed\n";
        SyncResult failed = backend.sync(t.snapshot());
        assertFalse(failed.ok());
        assertTrue(failed.applyFailed() && !failed.full(), "a partial restore that failed");
    }

    @Test
    void noExceptionEscapesEvenWhenTheRunnerThrows() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        fake.throwOnEverything = true;
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesConfig.defaults(), fake);
        SyncResult r = SyncGuard.sync(backend, new TestSnapshots().add(svc1).snapshot());
        assertFalse(r.ok());
        assertTrue(r.error().contains("boom: iptables-save"), r.error());
        SyncResult c = SyncGuard.cleanup(backend);
        assertFalse(c.ok());
        CommandRunner evil = (argv, stdin) -> {
            throw new IllegalStateException("unexpected");
        };
        assertFalse(SyncGuard.sync(TestBackends.of(IpFamily.IPV6, IptablesConfig.defaults(), evil), null).ok());
    }

    @Test
    void ipv6UsesIp6tablesCommands() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        IptablesBackend backend = TestBackends.of(IpFamily.IPV6, IptablesConfig.defaults(), fake);
        assertTrue(backend.sync(new TestSnapshots().snapshot()).ok());
        assertEquals("ip6tables-save", fake.commands.get(0).get(0));
        assertEquals("ip6tables-restore", fake.commands.get(2).get(0));
        assertFalse(fake.restored.get(0).contains("127.0.0.0/8"));
    }

    @Test
    void cleanupRemovesOnlyOurs() {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(FOREIGN));
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
        assertTrue(backend.sync(new TestSnapshots().add(svc1)
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1"))).snapshot()).ok());
        SyncResult r = backend.cleanup();
        assertTrue(r.ok(), r.error());
        IptablesDump foreign = IptablesDump.parse(FOREIGN);
        assertEquals(foreign.table("nat").chains().keySet(), fake.state.table("nat").chains().keySet());
        Set<String> filterChains = new LinkedHashSet<>(foreign.table("filter").chains().keySet());
        filterChains.add("KUBE-FIREWALL"); // the kubelet's, which this mode writes as upstream's does: kept
        assertEquals(filterChains, fake.state.table("filter").chains().keySet());
        String after = fake.state.toSaveText();
        assertEquals(foreign.toSaveText(), after.substring(0, after.indexOf("*mangle\n"))
                .replaceAll("(?m)^.*KUBE-FIREWALL.*\n", ""));
        assertEquals(List.of(), after.lines().filter(l -> l.contains("KUBE-") && !l.contains("KUBE-FIREWALL")).toList(),
                after);
    }

    @Test
    void cleanupReportsAChainAForeignRuleStillUses() {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(FOREIGN + """
                *nat
                :KUBE-SERVICES - [0:0]
                -A DOCKER -j KUBE-SERVICES
                COMMIT
                """));
        SyncResult r = TestBackends.of(IpFamily.IPV4, IptablesConfig.defaults(), fake).cleanup();
        assertFalse(r.ok());
        assertTrue(r.error().contains("KUBE-SERVICES kept: foreign chain DOCKER jumps to it"), r.error());
        assertTrue(fake.state.table("nat").has("KUBE-SERVICES"));
    }

    @Test
    void dryRunPrintsThePayloadAndTouchesNothing() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        IptablesBackend backend = TestBackends.of(IpFamily.IPV4, IptablesConfig.defaults(),
                CommandRunners.dryRun(new PrintStream(out, true, StandardCharsets.UTF_8)));
        assertTrue(backend.sync(new TestSnapshots().add(svc1).snapshot()).ok());
        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("*filter\n") && printed.contains("ns1/svc1:p80 has no endpoints"), printed);
    }
}
