package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.netfilter.NetworkSettings;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpsetWriterTest {

    private static IpvsSets write(IpFamily family, List<String> nodePortAddresses, ProxySnapshot snap, String... addrs) {
        NetworkSettings config = new NetworkSettings(14, false, List.of(), nodePortAddresses);
        return new IpsetWriter(family, config).write(snap, java.util.Arrays.stream(addrs).map(Snap::ip).toList());
    }

    private static TreeSet<String> set(String... e) {
        return new TreeSet<>(Set.of(e));
    }

    @Test
    void namesFollowUpstreamIncludingTheIpv6PrefixAndTheLengthLimit() {
        assertEquals("KUBE-CLUSTER-IP", KubeIpSet.CLUSTER_IP.name(IpFamily.IPV4));
        assertEquals("KUBE-6-CLUSTER-IP", KubeIpSet.CLUSTER_IP.name(IpFamily.IPV6));
        // "KUBE-6-LOAD-BALANCER-SOURCE-CIDR" is 32 characters: upstream cuts it to 31.
        assertEquals("KUBE-6-LOAD-BALANCER-SOURCE-CID", KubeIpSet.LOAD_BALANCER_SOURCE_CIDR.name(IpFamily.IPV6));
        assertEquals("KUBE-6-NODE-PORT-LOCAL-SCTP-HAS", KubeIpSet.NODE_PORT_LOCAL_SCTP.name(IpFamily.IPV6));
        for (KubeIpSet s : KubeIpSet.values()) {
            assertTrue(s.name(IpFamily.IPV6).length() <= 31, s.name(IpFamily.IPV6));
            assertTrue(s.scratchName(IpFamily.IPV6).length() <= 31);
        }
        assertEquals(17, KubeIpSet.values().length);
    }

    @Test
    void fillsEachSetAsUpstreamDoes() {
        ProxySnapshot snap = new Snap()
                .port("ns", "a", "p", Protocol.TCP, "10.96.0.10", 80)
                .endpoint("10.244.1.5", 8080, true).endpoint("10.244.2.5", 8080, false).done()
                .port("ns", "b", "", Protocol.UDP, "10.96.0.11", 53).nodePort(30053)
                .externalIP("203.0.113.5").externalIP("192.168.1.10").done()
                .port("ns", "c", "", Protocol.TCP, "10.96.0.12", 443).nodePort(30443).externalLocal(31000)
                .externalIP("203.0.113.6").lbIP("198.51.100.1").sourceRange("192.168.0.0/16").sourceRange("10.0.0.0/8")
                .done()
                .build();
        IpvsSets sets = write(IpFamily.IPV4, List.of(), snap, "192.168.1.10", "127.0.0.1", "fe80::1");
        assertEquals(set("10.244.1.5,tcp:8080,10.244.1.5"), sets.entries(KubeIpSet.LOOP_BACK), "local endpoints only");
        assertEquals(set("10.96.0.10,tcp:80", "10.96.0.11,udp:53", "10.96.0.12,tcp:443"), sets.entries(KubeIpSet.CLUSTER_IP));
        assertEquals(set("192.168.1.10,udp:53", "203.0.113.5,udp:53"), sets.entries(KubeIpSet.EXTERNAL_IP));
        assertEquals(set("203.0.113.6,tcp:443"), sets.entries(KubeIpSet.EXTERNAL_IP_LOCAL));
        assertEquals(set("198.51.100.1,tcp:443"), sets.entries(KubeIpSet.LOAD_BALANCER));
        assertEquals(set("198.51.100.1,tcp:443"), sets.entries(KubeIpSet.LOAD_BALANCER_LOCAL));
        assertEquals(set("198.51.100.1,tcp:443"), sets.entries(KubeIpSet.LOAD_BALANCER_FW));
        assertEquals(set("198.51.100.1,tcp:443,192.168.0.0/16", "198.51.100.1,tcp:443,10.0.0.0/8"),
                sets.entries(KubeIpSet.LOAD_BALANCER_SOURCE_CIDR));
        // The node has no Node addresses in this snapshot: its own access is dropped instead.
        assertTrue(sets.entries(KubeIpSet.LOAD_BALANCER_SOURCE_IP).isEmpty());
        assertEquals(List.of(new IpvsSets.NoNodeAccess("198.51.100.1", Protocol.TCP, 443)), sets.noNodeAccess());
        assertEquals(set("30443"), sets.entries(KubeIpSet.NODE_PORT_TCP));
        assertEquals(set("30443"), sets.entries(KubeIpSet.NODE_PORT_LOCAL_TCP));
        assertEquals(set("30053"), sets.entries(KubeIpSet.NODE_PORT_UDP));
        assertTrue(sets.entries(KubeIpSet.NODE_PORT_LOCAL_UDP).isEmpty());
        assertEquals(set("31000"), sets.entries(KubeIpSet.HEALTH_CHECK_NODE_PORT));
        // 192.168.1.10 is on another interface of the node, so it is not bound to kube-ipvs0.
        assertEquals(set("10.96.0.10", "10.96.0.11", "10.96.0.12", "203.0.113.5", "203.0.113.6", "198.51.100.1"),
                sets.entries(KubeIpSet.IPVS_IPS));
    }

    @Test
    void nodeInsideASourceRangeMayReachTheLoadBalancer() {
        ProxySnapshot snap = new Snap().nodeAddress("10.0.0.1")
                .port("ns", "c", "", Protocol.TCP, "10.96.0.12", 443).lbIP("198.51.100.1").sourceRange("10.0.0.0/8").done()
                .build();
        IpvsSets sets = write(IpFamily.IPV4, List.of(), snap, "10.0.0.1");
        assertEquals(set("198.51.100.1,tcp:443,198.51.100.1"), sets.entries(KubeIpSet.LOAD_BALANCER_SOURCE_IP));
        assertTrue(sets.noNodeAccess().isEmpty());
    }

    @Test
    void sctpNodePortsAreNodeIpEntriesWithinNodePortAddresses() {
        ProxySnapshot snap = new Snap().nodeAddress("10.0.0.1")
                .port("ns", "s", "", Protocol.SCTP, "10.96.0.40", 9000).nodePort(30090).externalLocal(0).done()
                .build();
        IpvsSets all = write(IpFamily.IPV4, List.of(), snap, "10.0.0.1", "172.16.0.1", "127.0.0.1");
        assertEquals(set("10.0.0.1,sctp:30090", "172.16.0.1,sctp:30090"), all.entries(KubeIpSet.NODE_PORT_SCTP));
        assertEquals(all.entries(KubeIpSet.NODE_PORT_SCTP), all.entries(KubeIpSet.NODE_PORT_LOCAL_SCTP));
        IpvsSets primary = write(IpFamily.IPV4, List.of("primary"), snap, "10.0.0.1", "172.16.0.1");
        assertEquals(set("10.0.0.1,sctp:30090"), primary.entries(KubeIpSet.NODE_PORT_SCTP));
        IpvsSets cidr = write(IpFamily.IPV4, List.of("172.16.0.0/12", "2001:db8::/64"), snap, "10.0.0.1", "172.16.0.1");
        assertEquals(set("172.16.0.1,sctp:30090"), cidr.entries(KubeIpSet.NODE_PORT_SCTP));
    }

    @Test
    void withoutNodePortAddressesUpstreamSkipsNodePortAndHealthCheckPort() {
        ProxySnapshot snap = new Snap()
                .port("ns", "c", "", Protocol.TCP, "10.96.0.12", 443).nodePort(30443).externalLocal(31000).done()
                .build();
        IpvsSets sets = write(IpFamily.IPV4, List.of("172.16.0.0/12"), snap, "10.0.0.1");
        assertTrue(sets.entries(KubeIpSet.NODE_PORT_TCP).isEmpty());
        assertTrue(sets.entries(KubeIpSet.HEALTH_CHECK_NODE_PORT).isEmpty());
        assertEquals(set("10.96.0.12,tcp:443"), sets.entries(KubeIpSet.CLUSTER_IP));
    }

    @Test
    void eachFamilyTakesOnlyItsOwnAddresses() {
        Snap s = new Snap();
        s.port("ns", "dual", "", Protocol.TCP, "10.96.0.10", 80).externalIP("2001:db8::5").externalIP("203.0.113.5")
                .endpoint("10.244.1.5", 80, true).endpoint("fd00::5", 80, true).done();
        s.port("ns", "v6", "", Protocol.TCP, "fd00:96::10", 80).endpoint("fd00::6", 80, true).done();
        ProxySnapshot snap = s.build();
        IpvsSets v4 = write(IpFamily.IPV4, List.of(), snap);
        IpvsSets v6 = write(IpFamily.IPV6, List.of(), snap);
        assertEquals(set("10.96.0.10,tcp:80"), v4.entries(KubeIpSet.CLUSTER_IP));
        assertEquals(set("203.0.113.5,tcp:80"), v4.entries(KubeIpSet.EXTERNAL_IP));
        assertEquals(set("fd00:96::10,tcp:80"), v6.entries(KubeIpSet.CLUSTER_IP));
        assertEquals(set("fd00::6,tcp:80,fd00::6"), v6.entries(KubeIpSet.LOOP_BACK),
                "the dual port has no IPv6 cluster IP, so upstream's IPv6 proxier does not see it");
        assertTrue(v6.restoreText().contains("create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536 -exist\n"));
    }

    @Test
    void restoreTextSwapsAFilledScratchSetIntoEveryLiveSetAndNamesNoOtherSet() {
        ProxySnapshot snap = new Snap().port("ns", "a", "", Protocol.TCP, "10.96.0.10", 80).done().build();
        String text = write(IpFamily.IPV4, List.of(), snap).restoreText();
        String cluster = String.join("\n",
                "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 -exist",
                "create KUBE-TMP-SET-1 hash:ip,port family inet hashsize 1024 maxelem 65536 -exist",
                "flush KUBE-TMP-SET-1",
                "add KUBE-TMP-SET-1 10.96.0.10,tcp:80",
                "swap KUBE-TMP-SET-1 KUBE-CLUSTER-IP",
                "destroy KUBE-TMP-SET-1") + "\n";
        assertTrue(text.contains(cluster), text);
        assertTrue(text.contains("create KUBE-NODE-PORT-TCP bitmap:port range 0-65535 -exist\n"));
        // Five lines per set, plus one "add" each for KUBE-CLUSTER-IP and KUBE-IPVS-IPS.
        assertEquals(17 * 5 + 2, text.split("\n").length);
        for (String line : text.split("\n")) {
            String name = line.split(" ")[1];
            assertTrue(name.startsWith("KUBE-"), line);
        }
    }
}
