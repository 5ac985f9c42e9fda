package dev.ferry.proxy.inspect;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.ferry.proxy.inspect.InspectGoldenTest.assertGolden;
import static dev.ferry.proxy.inspect.InspectGoldenTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ipvs mode against a fake IPVS table (this kernel has no IPVS; the lead's user-mode-linux tests
 * cover the real table): the virtual server a packet matches, its real servers' shares by weight,
 * masquerading from IPVS mode's rule and ipsets, and what inspect reports as programmed.
 */
class IpvsInspectTest {

    private static final String NAT = """
            *nat
            :PREROUTING ACCEPT [0:0]
            :INPUT ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            :KUBE-SERVICES - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN
            -A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
            COMMIT
            """;

    private final ProxySnapshot snapshot = Cluster.snapshot();
    private final FakeNode node = Cluster.node(snapshot);

    private static VirtualServer vs(String ip, int port, String scheduler) {
        return VirtualServer.of(Protocol.TCP, IpAddresses.parse(ip), port, scheduler);
    }

    private static RealServer rs(String ip, int port, int weight) {
        return RealServer.of(IpAddresses.parse(ip), port, weight);
    }

    @BeforeEach
    void ipvsNode() {
        node.hasIpvs = true;
        node.links.add("kube-ipvs0");
        node.saves.put(IpFamily.IPV4, NAT);
        node.ipvs.put(vs("10.96.0.10", 80, "rr"), List.of(rs("10.244.0.21", 8080, 1), rs("10.244.0.22", 8080, 1),
                rs("10.244.0.24", 8080, 0)));
        node.ipvs.put(vs("10.96.0.30", 80, "wrr"), List.of(rs("10.244.0.41", 80, 3), rs("10.244.0.42", 80, 1)));
        node.ipsets = """
                create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
                add KUBE-CLUSTER-IP 10.96.0.10,tcp:80
                add KUBE-CLUSTER-IP 10.96.0.30,tcp:80
                create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536
                add KUBE-LOOP-BACK 10.244.0.21,tcp:8080,10.244.0.21
                """;
    }

    @Test
    void traceFromAPodSharesByWeightWithoutMasquerade() {
        InspectGoldenTest.Run r = run(node, snapshot, "trace", "--src", "10.244.1.10", "--dst", "10.96.0.10", "--port", "80");
        assertEquals(0, r.code(), r.err());
        assertGolden("ipvs-trace-pod", """
                mode ipvs (link kube-ipvs0 exists)
                trace tcp 10.244.1.10 -> 10.96.0.10:80: IPVS table

                virtual server: TCP 10.96.0.10:80 rr
                destination kind: cluster IP

                endpoints reachable (share of new connections by weight):
                  10.244.0.21:8080  50.00% (1/2)  weight 1  not masqueraded (source inside 10.244.0.0/16)
                  10.244.0.22:8080  50.00% (1/2)  weight 1  not masqueraded (source inside 10.244.0.0/16)
                  10.244.0.24:8080  0%            weight 0  no new connections (terminating)
                """, r.out());
    }

    @Test
    void weightedSharesOutsideClientAndHairpin() {
        InspectGoldenTest.Run outside = run(node, snapshot, "trace", "--src", "203.0.113.7", "--dst", "10.96.0.30",
                "--port", "80", "--proxy-mode=ipvs");
        assertGolden("ipvs-trace-outside", """
                mode ipvs (--proxy-mode)
                trace tcp 203.0.113.7 -> 10.96.0.30:80: IPVS table

                virtual server: TCP 10.96.0.30:80 wrr
                destination kind: cluster IP

                endpoints reachable (share of new connections by weight):
                  10.244.0.41:80  75.00% (3/4)  weight 3  masqueraded (source outside 10.244.0.0/16)
                  10.244.0.42:80  25.00% (1/4)  weight 1  masqueraded (source outside 10.244.0.0/16)
                """, outside.out());
        InspectGoldenTest.Run hairpin = run(node, snapshot, "trace", "--src", "10.244.0.21", "--dst", "10.96.0.10",
                "--port", "80", "--proxy-mode=ipvs");
        assertTrue(hairpin.out().contains("10.244.0.21:8080  50.00% (1/2)  weight 1  masqueraded (hairpin: KUBE-LOOP-BACK)\n"),
                hairpin.out());
        assertTrue(hairpin.out().contains("10.244.0.22:8080  50.00% (1/2)  weight 1  not masqueraded"), hairpin.out());
    }

    @Test
    void noVirtualServer() {
        InspectGoldenTest.Run r = run(node, snapshot, "trace", "--src", "10.244.1.10", "--dst", "10.96.0.99", "--port", "80",
                "--proxy-mode=ipvs");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("virtual server: none for TCP 10.96.0.99:80: IPVS leaves the packet alone"), r.out());
    }

    @Test
    void inspectReportsVirtualServersAndMissingOnes() {
        InspectGoldenTest.Run r = run(node, snapshot, "inspect", "services");
        assertEquals(0, r.code(), r.err());
        assertGolden("ipvs-services", """
                node node-a (zone zone-a), mode ipvs (link kube-ipvs0 exists)

                SERVICE PORT        PROTO  TYPE       CLUSTER-IPS    NODE-PORT  EXTERNAL/LB-IPS  POLICY            ENDPOINTS-IN/OUT  PROGRAMMED
                default/empty:http  TCP    ClusterIP  10.96.0.40:80  -          -                internal=Cluster  0/0               NO (no virtual server TCP 10.96.0.40:80)
                default/local:http  TCP    ClusterIP  10.96.0.20:80  -          -                internal=Local    1/1               NO (no virtual server TCP 10.96.0.20:80)
                default/web:http    TCP    ClusterIP  10.96.0.10:80  -          -                internal=Cluster  2/2               yes (1 virtual server)
                default/zoned:http  TCP    ClusterIP  10.96.0.30:80  -          -                internal=Cluster  1/1               yes (1 virtual server)
                """, r.out());
        InspectGoldenTest.Run one = run(node, snapshot, "inspect", "service", "default/web");
        assertTrue(one.out().contains("""
                  programmed (IPv4, ipvs):
                    TCP 10.96.0.10:80 rr
                      -> 10.244.0.21:8080 weight 1 masquerade (active 0, inactive 0)
                      -> 10.244.0.22:8080 weight 1 masquerade (active 0, inactive 0)
                      -> 10.244.0.24:8080 weight 0 masquerade (active 0, inactive 0)
                """), one.out());
    }

    @Test
    void unreadableIpvsTableIsShownNotThrown() {
        node.hasIpvs = false;
        InspectGoldenTest.Run r = run(node, snapshot, "inspect", "services");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("unknown: list IPVS services: the ip_vs module is not loaded"), r.out());
    }
}
