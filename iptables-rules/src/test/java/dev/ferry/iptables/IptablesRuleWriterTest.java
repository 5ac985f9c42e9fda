package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.RuleText;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IptablesRuleWriterTest {

    static final IptablesConfig CLUSTER_CIDR = IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("10.0.0.0/8")));

    static String write(ProxySnapshot snapshot, IptablesConfig config, IpFamily family) {
        return new IptablesRuleWriter(family, config, false, false).write(snapshot, IptablesDump.empty(), false);
    }

    static Service affinity(Service svc, int seconds) {
        return new ServiceBuilder(svc).editSpec().withSessionAffinity("ClientIP")
                .withNewSessionAffinityConfig().withNewClientIP().withTimeoutSeconds(seconds).endClientIP()
                .endSessionAffinityConfig().endSpec().build();
    }

    @Test
    void upstreamDesignExampleAppearsExactly() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Fixtures.clusterIPService("ns4", "svc4", "172.30.0.44", "p80", 80, "TCP"))
                .add(Fixtures.slice("ns4", "svc4-1", "svc4", "p80", 80, "TCP", Ep.ready("10.180.0.4"), Ep.ready("10.180.0.5")))
                .snapshot();
        String payload = write(snap, CLUSTER_CIDR, IpFamily.IPV4);
        String expected = """
                -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
                -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
                -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
                -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
                -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
                -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
                """;
        // Each line exactly; the order of lines of different chains is free in restore input.
        for (String line : expected.split("\n")) {
            assertTrue(payload.contains(line + "\n"), "missing " + line + " in\n" + payload);
        }
    }

    /** The ClusterIP services of upstream's TestOverallIPTablesRules, and their exact rules. */
    @Test
    void upstreamOverallRulesForClusterIPServices() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Fixtures.clusterIPService("ns1", "svc1", "172.30.0.41", "p80", 80, "TCP"),
                        affinity(Fixtures.clusterIPService("ns5", "svc5", "172.30.0.45", "p80", 80, "TCP"), 10800),
                        Fixtures.clusterIPService("ns6", "svc6", "172.30.0.46", "p80", 80, "TCP"))
                .add(Fixtures.slice("ns1", "svc1-1", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")),
                        Fixtures.slice("ns5", "svc5-1", "svc5", "p80", 80, "TCP", Ep.ready("10.180.0.3")))
                .snapshot();
        String payload = write(snap, CLUSTER_CIDR, IpFamily.IPV4);
        for (String line : List.of(
                "-A KUBE-SERVICES -m comment --comment \"ns6/svc6:p80 has no endpoints\" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT",
                "-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O",
                "-A KUBE-SERVICES -m comment --comment \"ns5/svc5:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C",
                "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
                "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
                "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
                "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
                "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE",
                "-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ",
                "-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80",
                "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ",
                "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80",
                "-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ",
                "-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 -> 10.180.0.3:80\" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN",
                "-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment \"ns5/svc5:p80 -> 10.180.0.3:80\" -j KUBE-SEP-I77PXRDZVX7PMWMN",
                "-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ",
                "-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j KUBE-SEP-SXIVWICOYRO3J4NJ",
                "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
                "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT",
                "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                "-A KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP")) {
            assertTrue(payload.contains(line + "\n"), "missing: " + line + "\nin:\n" + payload);
        }
        assertFalse(payload.contains("KUBE-SVC-" + ChainNames.hash16("ns6/svc6:p80tcp")), "no chain for a service without endpoints");
        assertTrue(payload.endsWith("-j KUBE-NODEPORTS\nCOMMIT\n"), "the NodePorts jump is the last rule of KUBE-SERVICES");
    }

    /** Upstream TestMasqueradeRule: an empty snapshot, with and without --random-fully. */
    @Test
    void emptySnapshotIsUpstreamBaseRules() {
        ProxySnapshot empty = new TestSnapshots().snapshot();
        for (boolean randomFully : new boolean[] {false, true}) {
            String payload = new IptablesRuleWriter(IpFamily.IPV4, IptablesConfig.defaults(), randomFully, false)
                    .write(empty, IptablesDump.empty(), false);
            assertEquals("""
                    *filter
                    :KUBE-SERVICES - [0:0]
                    :KUBE-EXTERNAL-SERVICES - [0:0]
                    :KUBE-FORWARD - [0:0]
                    :KUBE-NODEPORTS - [0:0]
                    :KUBE-PROXY-FIREWALL - [0:0]
                    :KUBE-FIREWALL - [0:0]
                    -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
                    -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
                    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
                    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                    COMMIT
                    *nat
                    :KUBE-SERVICES - [0:0]
                    :KUBE-NODEPORTS - [0:0]
                    :KUBE-POSTROUTING - [0:0]
                    :KUBE-MARK-MASQ - [0:0]
                    -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
                    -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
                    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE%s
                    -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
                    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
                    COMMIT
                    """.formatted(randomFully ? " --random-fully" : ""), payload);
        }
    }

    @Test
    void masqueradeAllAndNoClusterCidr() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Fixtures.clusterIPService("ns1", "svc1", "172.30.0.41", "p80", 80, "TCP"))
                .add(Fixtures.slice("ns1", "svc1-1", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")))
                .snapshot();
        String all = write(snap, CLUSTER_CIDR.withMasqueradeAll(true), IpFamily.IPV4);
        assertTrue(all.contains("-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ\n"), all);
        String none = write(snap, IptablesConfig.defaults(), IpFamily.IPV4);
        assertFalse(none.contains("-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 cluster IP\""),
                "without a local-traffic detector upstream writes no ClusterIP masquerade rule:\n" + none);
    }

    @Test
    void probabilitiesAreUpstreamFormatted() {
        assertEquals("0.5000000000", Probability.of(2));
        assertEquals("0.3333333333", Probability.of(3));
        assertEquals("0.6666666667".length(), Probability.of(3).length());
        assertEquals("0.0004882812", Probability.of(2048), "Go rounds the exact tie half to even");
        assertEquals("1.0000000000", Probability.of(1));
    }

    @Test
    void commentsCannotBreakARule() {
        assertEquals("ns/svc:p", RuleText.comment("ns/svc:p"));
        assertEquals("\"a b\"", RuleText.comment("a b"));
        assertEquals("\"x_ -j ACCEPT_y\"", RuleText.comment("x\" -j ACCEPT\ny"));
        assertEquals("a_b", RuleText.comment("a\\b"));
        assertEquals(RuleText.MAX_COMMENT + 2, RuleText.comment("x ".repeat(500)).length());
    }

    @Test
    void largeClusterModeDropsEndpointComments() {
        TestSnapshots t = new TestSnapshots().add(Fixtures.clusterIPService("ns1", "big", "172.30.0.50", "p80", 80, "TCP"));
        Ep[] eps = new Ep[1001];
        for (int i = 0; i < eps.length; i++) {
            eps[i] = Ep.ready("10.1." + (i / 250) + "." + (i % 250 + 1));
        }
        String payload = write(t.add(Fixtures.slice("ns1", "big-1", "big", "p80", 80, "TCP", eps)).snapshot(), CLUSTER_CIDR, IpFamily.IPV4);
        assertFalse(payload.contains("ns1/big:p80 ->"), "no per-endpoint comments above 1000 endpoints");
        assertFalse(payload.contains("--comment ns1/big:p80 "), "no SEP comments above 1000 endpoints");
        assertTrue(payload.contains("--comment \"ns1/big:p80 cluster IP\""), "service comments stay");
        assertTrue(payload.contains("--probability 0.0009990010 -j KUBE-SEP-"), payload.substring(0, 3000));
    }
}
