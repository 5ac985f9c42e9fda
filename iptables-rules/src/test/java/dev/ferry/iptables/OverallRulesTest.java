package dev.ferry.iptables;

import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.netfilter.IptablesDump;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.ferry.iptables.Flows.Flow.tcp;

/** Upstream's TestOverallIPTablesRules: every service type at once, the exact expected rules. */
class OverallRulesTest {

    static ProxySnapshot upstreamServices() {
        return new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "ClusterIP", "172.30.0.41").p80(0).build(),
                        // LoadBalancer, Local traffic policy
                        Svc.of("ns2", "svc2", "LoadBalancer", "172.30.0.42").p80(3001).lb("1.2.3.4")
                                .externalIPs("192.168.99.22").etpLocal(30000).build(),
                        Svc.of("ns3", "svc3", "NodePort", "172.30.0.43").p80(3003).build(),
                        // NodePort type without a node port: only the external IP
                        Svc.of("ns4", "svc4", "NodePort", "172.30.0.44").p80(0).externalIPs("192.168.99.33").build(),
                        // LoadBalancer, Cluster policy, source ranges, affinity; its health check
                        // node port is ignored (Cluster policy)
                        Svc.of("ns5", "svc5", "LoadBalancer", "172.30.0.45").p80(3002).lb("5.6.7.8").etpCluster()
                                .healthCheckNodePort(30000).sourceRanges("203.0.113.0/25").affinity(10800).build(),
                        Svc.of("ns6", "svc6", "ClusterIP", "172.30.0.46").p80(0).build())
                .add(Fixtures.slice("ns1", "svc1-1", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")),
                        // not on this node: svc2 has no local endpoints
                        Fixtures.slice("ns2", "svc2-1", "svc2", "p80", 80, "TCP", Ep.ready("10.180.0.2")),
                        Fixtures.slice("ns3", "svc3-1", "svc3", "p80", 80, "TCP", Ep.ready("10.180.0.3")),
                        Fixtures.slice("ns4", "svc4-1", "svc4", "p80", 80, "TCP", Ep.ready("10.180.0.4"),
                                Ep.ready("10.180.0.5").onNode(TestSnapshots.NODE)),
                        Fixtures.slice("ns5", "svc5-1", "svc5", "p80", 80, "TCP", Ep.ready("10.180.0.3")))
                .snapshot();
    }

    /**
     * Upstream's expected output, less two nfacct counters we do not write (a second
     * "-d 127.0.0.0/8 … -m nfacct" NodePort rule per service and the nfacct match of the
     * INVALID drop): they count packets and change no packet's fate.
     */
    static final String UPSTREAM = """
            *filter
            :KUBE-NODEPORTS - [0:0]
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-FIREWALL - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
            -A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
            -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
            -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
            -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
            -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            -A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
            COMMIT
            *nat
            :KUBE-NODEPORTS - [0:0]
            :KUBE-SERVICES - [0:0]
            :KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
            :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
            :KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
            :KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
            :KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
            :KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
            :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
            :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
            :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
            :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
            :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
            :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
            :KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
            :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
            :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
            -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
            -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
            -A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
            -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
            -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
            -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
            -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
            -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
            -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
            -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
            -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
            -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            -A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
            -A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
            -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
            -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
            -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
            -A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
            -A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
            -A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
            -A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
            -A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
            -A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
            -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
            -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
            -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
            -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
            -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
            -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
            -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
            -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
            -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
            -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
            -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
            -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
            -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
            -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
            -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
            -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
            -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
            -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
            -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
            -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
            -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
            -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
            -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
            -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
            -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
            -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
            -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
            COMMIT
            """;

    @Test
    void sameRulesAsUpstream() {
        String payload = new IptablesRuleWriter(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, false, false)
                .write(upstreamServices(), IptablesDump.empty(), false);
        Golden.assertSameRules(UPSTREAM, payload);
    }

    /** Upstream's packet flows for TestOverallIPTablesRules, on our rules. */
    @Test
    void upstreamPacketFlows() {
        String payload = new IptablesRuleWriter(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR, false, false)
                .write(upstreamServices(), IptablesDump.empty(), true);
        Flows.run(IptablesDump.empty().apply(payload), List.of(
                tcp("simple clusterIP", "10.180.0.2", "172.30.0.41", 80, "10.180.0.1:80", false),
                tcp("hairpin to cluster IP", "10.180.0.1", "172.30.0.41", 80, "10.180.0.1:80", true),
                tcp("clusterIP with multiple endpoints", "10.180.0.2", "172.30.0.44", 80, "10.180.0.4:80, 10.180.0.5:80", false),
                tcp("clusterIP with TargetPort", "10.180.0.2", "172.30.0.43", 80, "10.180.0.3:80", false),
                tcp("external IP, Local policy, no local endpoints, from pod", "10.0.0.2", "192.168.99.22", 80, "10.180.0.2:80", false),
                tcp("external IP, Local policy, no local endpoints, from outside", "203.0.113.2", "192.168.99.22", 80, "DROP", false),
                tcp("external IP, Cluster policy", "203.0.113.2", "192.168.99.33", 80, "10.180.0.4:80, 10.180.0.5:80", true),
                tcp("LB IP, Local policy, no local endpoints, from outside", "203.0.113.2", "1.2.3.4", 80, "DROP", false),
                tcp("LB IP, source range allowed", "203.0.113.2", "5.6.7.8", 80, "10.180.0.3:80", true),
                tcp("LB IP, source range denied", "203.0.113.200", "5.6.7.8", 80, "DROP", false),
                tcp("NodePort, Cluster policy", "203.0.113.2", "192.168.0.2", 3003, "10.180.0.3:80", true),
                tcp("NodePort ignores source ranges", "203.0.113.200", "192.168.0.2", 3002, "10.180.0.3:80", true),
                tcp("NodePort, Local policy, no local endpoints, from outside", "203.0.113.2", "192.168.0.2", 3001, "DROP", false),
                tcp("NodePort, Local policy, from the node", "192.168.0.2", "192.168.0.2", 3001, "10.180.0.2:80", true),
                tcp("localhost NodePort", "127.0.0.1", "127.0.0.1", 3003, "10.180.0.3:80", true),
                tcp("health check node port is accepted", "203.0.113.2", "192.168.0.2", 30000, "", false),
                tcp("REJECT", "10.0.0.2", "172.30.0.46", 80, "REJECT", false)));
    }
}
