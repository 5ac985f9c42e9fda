package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTraffic;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.netfilter.NetworkSettings;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpvsRuleWriterTest {

    private static final NetworkSettings WITH_CIDR = NetworkSettings.defaults()
            .withClusterCidrs(List.of(Cidr.parse("10.244.0.0/16"), Cidr.parse("fd00:244::/64")));

    /** The writer's text with the detector {@code config} gives (none here depends on the node). */
    private static String write(NetworkSettings config, IpFamily family, boolean randomFully, IpvsSets sets,
                                java.util.Collection<dev.ferry.netfilter.JumpRule> missing) {
        return new IpvsRuleWriter(family, config, randomFully).write(sets, config.localTraffic(family, null), missing);
    }

    private static IpvsSets sets(IpFamily family, ProxySnapshot snap, String... nodeAddresses) {
        return new IpsetWriter(family, NetworkSettings.defaults()).write(snap,
                java.util.Arrays.stream(nodeAddresses).map(Snap::ip).toList());
    }

    private static ProxySnapshot clusterNodePortExternal() {
        return new Snap().nodeAddress("10.0.0.1")
                .port("ns", "a", "", Protocol.TCP, "10.96.0.10", 80).endpoint("10.244.1.5", 8080, true).done()
                .port("ns", "b", "", Protocol.TCP, "10.96.0.11", 80).nodePort(30080).externalIP("203.0.113.5").done()
                .build();
    }

    /**
     * The whole restore input, written out by hand from upstream's writeIptablesRules (the
     * version with the localhost RETURN, KUBE-IPVS-FILTER and KUBE-IPVS-OUT-FILTER): a
     * ClusterIP with a local endpoint, a NodePort with an external IP, cluster CIDR 10.244.0.0/16.
     */
    @Test
    void wholeTextForClusterIpNodePortAndExternalIp() {
        String text = write(WITH_CIDR, IpFamily.IPV4, true, sets(IpFamily.IPV4, clusterNodePortExternal(), "10.0.0.1"), List.of());
        String ext = "-A KUBE-SERVICES -m comment --comment \"Kubernetes service external ip + port for masquerade and filter purpose\" -m set --match-set KUBE-EXTERNAL-IP dst,dst";
        String expected = String.join("\n",
                "*nat",
                ":KUBE-SERVICES - [0:0]",
                ":KUBE-POSTROUTING - [0:0]",
                ":KUBE-NODE-PORT - [0:0]",
                ":KUBE-LOAD-BALANCER - [0:0]",
                ":KUBE-MARK-MASQ - [0:0]",
                "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN",
                "-A KUBE-POSTROUTING -m comment --comment \"Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose\" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE",
                "-A KUBE-NODE-PORT -p tcp -m comment --comment \"Kubernetes nodeport TCP port for masquerade purpose\" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ",
                "-A KUBE-SERVICES -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ",
                ext + " -j KUBE-MARK-MASQ",
                ext + " -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT",
                ext + " -m addrtype --dst-type LOCAL -j ACCEPT",
                "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
                "-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ",
                "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
                "-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN",
                "-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000",
                "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully",
                "-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000",
                "COMMIT",
                "*filter",
                ":KUBE-FORWARD - [0:0]",
                ":KUBE-NODE-PORT - [0:0]",
                ":KUBE-PROXY-FIREWALL - [0:0]",
                ":KUBE-SOURCE-RANGES-FIREWALL - [0:0]",
                ":KUBE-IPVS-FILTER - [0:0]",
                ":KUBE-IPVS-OUT-FILTER - [0:0]",
                "-A KUBE-SOURCE-RANGES-FIREWALL -j DROP",
                "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x00004000/0x00004000 -j ACCEPT",
                "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                "-A KUBE-NODE-PORT -m comment --comment \"Kubernetes health check node port\" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT",
                "-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN",
                "-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN",
                "-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN",
                "-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN",
                "-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN",
                "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT",
                "COMMIT") + "\n";
        assertEquals(expected, text);
    }

    @Test
    void clusterIpMasqueradeFollowsMasqueradeAllThenClusterCidrThenVipSource() {
        IpvsSets sets = sets(IpFamily.IPV4, clusterNodePortExternal(), "10.0.0.1");
        String all = write(WITH_CIDR.withMasqueradeAll(true), IpFamily.IPV4, true, sets, List.of());
        assertTrue(all.contains("--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n"), all);
        String none = write(NetworkSettings.defaults(), IpFamily.IPV4, false, sets, List.of());
        assertTrue(none.contains("--match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ\n"), none);
        assertTrue(none.contains("-j MASQUERADE\n"), "no --random-fully when iptables lacks it");
    }

    /** Upstream's IPVS proxier writes the detector's IfNotLocal() after the ClusterIP set match. */
    @Test
    void clusterIpMasqueradeUsesEachDetectorsNotLocalMatch() {
        IpvsSets sets = sets(IpFamily.IPV4, clusterNodePortExternal(), "10.0.0.1");
        Map<LocalTraffic, String> cases = new LinkedHashMap<>();
        cases.put(new LocalTraffic.SourceCidr(Cidr.parse("10.244.1.0/24")), "! -s 10.244.1.0/24");
        cases.put(new LocalTraffic.InInterface("cbr0"), "! -i cbr0");
        cases.put(new LocalTraffic.InInterfacePrefix("veth"), "! -i veth+");
        cases.forEach((local, match) -> {
            String text = new IpvsRuleWriter(IpFamily.IPV4, NetworkSettings.defaults(), true).write(sets, local, List.of());
            assertEquals(List.of("-A KUBE-SERVICES -m comment --comment \"Kubernetes service cluster ip + port for masquerade "
                            + "purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst " + match + " -j KUBE-MARK-MASQ"),
                    text.lines().filter(l -> l.contains("--match-set KUBE-CLUSTER-IP") && l.contains("KUBE-MARK-MASQ")).toList(),
                    local::toString);
        });
    }

    @Test
    void masqueradeBitSetsTheMark() {
        IpvsSets sets = sets(IpFamily.IPV4, new Snap().build());
        String text = write(NetworkSettings.defaults().withMasqueradeBit(5), IpFamily.IPV4, true, sets, List.of());
        assertTrue(text.contains("-A KUBE-MARK-MASQ -j MARK --or-mark 0x00000020\n"), text);
        assertEquals("0x80000000", new IpvsRuleWriter(IpFamily.IPV4, NetworkSettings.defaults().withMasqueradeBit(31), true).mark());
    }

    @Test
    void emptySnapshotStillWritesTheFixedRulesButNoSetRules() {
        String text = write(WITH_CIDR, IpFamily.IPV4, true, sets(IpFamily.IPV4, new Snap().build()), List.of());
        assertEquals(List.of(ChainView.returnFrom("127.0.0.0/8"), ChainView.rule("KUBE-NODE-PORT", "")),
                ChainView.of(text, "KUBE-SERVICES"));
        assertFalse(text.contains("KUBE-LOOP-BACK"));
        assertTrue(text.contains("--match-set KUBE-IPVS-IPS dst -j REJECT"));
    }

    @Test
    void ipv6UsesItsOwnSetNamesLoopbackAndClusterCidr() {
        ProxySnapshot snap = new Snap()
                .port("ns", "a", "", Protocol.SCTP, "fd00:96::10", 80).nodePort(30080).endpoint("fd00:244::5", 80, true).done()
                .build();
        String text = write(WITH_CIDR, IpFamily.IPV6, true, sets(IpFamily.IPV6, snap, "2001:db8::1"), List.of());
        assertTrue(text.contains("-A KUBE-SERVICES -s ::1/128 -j RETURN\n"));
        assertTrue(text.contains("--match-set KUBE-6-CLUSTER-IP dst,dst ! -s fd00:244::/64 -j KUBE-MARK-MASQ\n"), text);
        assertTrue(text.contains("--match-set KUBE-6-LOOP-BACK dst,dst,src -j MASQUERADE\n"));
        assertTrue(text.contains("-A KUBE-NODE-PORT -p sctp -m comment --comment \"Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'\" -m set --match-set KUBE-6-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ\n"));
        assertFalse(text.contains("--match-set KUBE-CLUSTER-IP"), "no IPv4 set name in IPv6 rules");
        IpvsSets v4 = sets(IpFamily.IPV4, snap);
        assertThrows(IllegalArgumentException.class, () -> write(WITH_CIDR, IpFamily.IPV6, true, v4, List.of()));
    }

    @Test
    void nodeOutsideTheSourceRangesIsKeptOffTheLoadBalancer() {
        ProxySnapshot snap = new Snap().nodeAddress("172.16.0.1")
                .port("ns", "lb", "", Protocol.TCP, "10.96.0.12", 443).lbIP("198.51.100.1").sourceRange("10.0.0.0/8").done()
                .build();
        String text = write(WITH_CIDR, IpFamily.IPV4, true, sets(IpFamily.IPV4, snap, "172.16.0.1"), List.of());
        assertEquals(List.of("-A KUBE-IPVS-OUT-FILTER -s 198.51.100.1 -m ipvs --vaddr 198.51.100.1 --vproto tcp --vport 443 -j DROP"),
                text.lines().filter(l -> l.startsWith("-A KUBE-IPVS-OUT-FILTER")).toList());
        assertEquals(List.of(ChainView.rule("RETURN", "KUBE-LOAD-BALANCER-SOURCE-CIDR"), ChainView.rule("DROP", "")),
                ChainView.of(text, "KUBE-SOURCE-RANGES-FIREWALL"));
    }

    @Test
    void externalIpsWithLocalPolicyAreAcceptedButNotMasqueraded() {
        ProxySnapshot snap = new Snap()
                .port("ns", "x", "", Protocol.UDP, "10.96.0.12", 53).externalIP("203.0.113.9").externalLocal(0).done()
                .build();
        String text = write(WITH_CIDR, IpFamily.IPV4, true, sets(IpFamily.IPV4, snap), List.of());
        List<String> local = text.lines()
                .filter(l -> l.startsWith("-A KUBE-SERVICES") && l.contains("--match-set KUBE-EXTERNAL-IP-LOCAL")).toList();
        assertEquals(2, local.size(), text);
        assertTrue(local.stream().allMatch(l -> l.endsWith("-j ACCEPT")));
    }

    @Test
    void missingJumpsArePrependedInTheirTablesAfterTheChainDeclarations() {
        String text = write(WITH_CIDR, IpFamily.IPV4, true, sets(IpFamily.IPV4, new Snap().build()),
                IpvsChains.JUMPS);
        List<String> lines = text.lines().toList();
        int nat = lines.indexOf("-I PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
        assertTrue(nat > lines.indexOf(":KUBE-MARK-MASQ - [0:0]") && nat < lines.indexOf("*filter"), text);
        int filter = lines.indexOf("-I OUTPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-OUT-FILTER");
        assertTrue(filter > lines.indexOf(":KUBE-IPVS-OUT-FILTER - [0:0]"), text);
        assertEquals(IpvsChains.JUMPS.size(), lines.stream().filter(l -> l.startsWith("-I ")).count());
    }
}
