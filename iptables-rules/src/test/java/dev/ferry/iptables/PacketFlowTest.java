package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.mode.inspect.PacketTracer;
import dev.ferry.netfilter.IptablesDump;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.ferry.iptables.Flows.Flow;
import static dev.ferry.iptables.Flows.Flow.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Upstream's ClusterIP packet-flow tests, run through our tracer on our generated rules. */
class PacketFlowTest {

    private static IptablesDump applied(ProxySnapshot snap, IptablesConfig config, IpFamily family) {
        String payload = new IptablesRuleWriter(family, config).write(snap, IptablesDump.empty(), true);
        return IptablesDump.empty().apply(payload);
    }

    private static Service withPorts(String ns, String name, String ip, Object... nameTargetPortProtocol) {
        ServiceBuilder b = new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP(ip).withClusterIPs(ip).endSpec();
        for (int i = 0; i < nameTargetPortProtocol.length; i += 4) {
            b.editSpec().addToPorts(new ServicePortBuilder().withName((String) nameTargetPortProtocol[i])
                    .withPort((Integer) nameTargetPortProtocol[i + 1])
                    .withTargetPort(new IntOrString((Integer) nameTargetPortProtocol[i + 2]))
                    .withProtocol((String) nameTargetPortProtocol[i + 3]).build()).endSpec();
        }
        return b.build();
    }

    /** Upstream TestClusterIPGeneral. */
    @Test
    void clusterIPGeneral() {
        TestSnapshots t = new TestSnapshots()
                .add(Fixtures.clusterIPService("ns1", "svc1", "172.30.0.41", "http", 80, "TCP"),
                        withPorts("ns2", "svc2", "172.30.0.42", "http", 80, 80, "TCP", "https", 443, 8443, "TCP",
                                "dns-udp", 53, 53, "UDP", "dns-tcp", 53, 5353, "TCP", "dns-sctp", 53, 53, "SCTP"))
                .add(Fixtures.slice("ns1", "svc1-1", "svc1", "http", 80, "TCP", Ep.ready("10.180.0.1").onNode(TestSnapshots.NODE)));
        for (Object[] p : new Object[][] {{"http", 80, "TCP"}, {"https", 8443, "TCP"}, {"dns-udp", 53, "UDP"},
                {"dns-tcp", 5353, "TCP"}, {"dns-sctp", 53, "SCTP"}}) {
            t.add(Fixtures.slice("ns2", "svc2-" + p[0], "svc2", (String) p[0], (Integer) p[1], (String) p[2],
                    Ep.ready("10.180.0.1").onNode(TestSnapshots.NODE), Ep.ready("10.180.2.1").onNode("node2")));
        }
        IptablesDump dump = applied(t.snapshot(), IptablesRuleWriterTest.CLUSTER_CIDR, IpFamily.IPV4);
        Flows.run(dump, List.of(
                tcp("simple clusterIP", "10.180.0.2", "172.30.0.41", 80, "10.180.0.1:80", false),
                tcp("hairpin to cluster IP", "10.180.0.1", "172.30.0.41", 80, "10.180.0.1:80", true),
                tcp("clusterIP with multiple endpoints", "10.180.0.2", "172.30.0.42", 80, "10.180.0.1:80, 10.180.2.1:80", false),
                tcp("clusterIP with TargetPort", "10.180.0.2", "172.30.0.42", 443, "10.180.0.1:8443, 10.180.2.1:8443", false),
                tcp("TCP on shared port", "10.180.0.2", "172.30.0.42", 53, "10.180.0.1:5353, 10.180.2.1:5353", false),
                new Flow("UDP on shared port", "10.180.0.2", "172.30.0.42", 53, Protocol.UDP, "10.180.0.1:53, 10.180.2.1:53", false),
                new Flow("SCTP on shared port", "10.180.0.2", "172.30.0.42", 53, Protocol.SCTP, "10.180.0.1:53, 10.180.2.1:53", false),
                new Flow("TCP-only port does not match UDP", "10.180.0.2", "172.30.0.42", 80, Protocol.UDP, "", false),
                tcp("svc1 does not accept svc2's ports", "10.180.0.2", "172.30.0.41", 443, "", false),
                tcp("from outside the cluster CIDR is masqueraded", "203.0.113.2", "172.30.0.41", 80, "10.180.0.1:80", true),
                tcp("from the node itself is masqueraded", "192.168.0.2", "172.30.0.41", 80, "10.180.0.1:80", true)));
        Flows.assertShares(dump, "10.180.0.2", "172.30.0.42", 80, Map.of("10.180.0.1:80", 0.5, "10.180.2.1:80", 0.5));
    }

    /** Upstream TestNoEndpointsReject (ClusterIP part) and the REJECT flow of TestOverallIPTablesRules. */
    @Test
    void noEndpointsRejects() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Fixtures.clusterIPService("ns6", "svc6", "172.30.0.46", "p80", 80, "TCP")).snapshot();
        IptablesDump dump = applied(snap, IptablesRuleWriterTest.CLUSTER_CIDR, IpFamily.IPV4);
        Flows.run(dump, List.of(
                tcp("REJECT from a pod", "10.0.0.2", "172.30.0.46", 80, "REJECT", false),
                tcp("REJECT from the node", "192.168.0.2", "172.30.0.46", 80, "REJECT", false)));
    }

    @Test
    void masqueradeAllMasqueradesPods() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Fixtures.clusterIPService("ns1", "svc1", "172.30.0.41", "p80", 80, "TCP"))
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1"))).snapshot();
        Flows.run(applied(snap, IptablesRuleWriterTest.CLUSTER_CIDR.withMasqueradeAll(true), IpFamily.IPV4), List.of(
                tcp("pod", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80", true)));
        Flows.run(applied(snap, IptablesConfig.defaults(), IpFamily.IPV4), List.of(
                tcp("no detector: outside client not masqueraded", "203.0.113.2", "172.30.0.41", 80, "10.180.0.1:80", false),
                tcp("no detector: hairpin still masqueraded", "10.180.0.1", "172.30.0.41", 80, "10.180.0.1:80", true)));
    }

    /** Upstream TestInternalTrafficPolicy: Local policy uses only this node's endpoints, else DROP. */
    @Test
    void internalTrafficPolicyLocal() {
        Service svc = new ServiceBuilder(Fixtures.clusterIPService("ns1", "svc1", "172.30.0.41", "p80", 80, "TCP"))
                .editSpec().withInternalTrafficPolicy("Local").endSpec().build();
        ProxySnapshot withLocal = new TestSnapshots().add(svc)
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.0.1.1").onNode(TestSnapshots.NODE),
                        Ep.ready("10.0.1.2").onNode(TestSnapshots.NODE), Ep.ready("10.0.1.3").onNode("host1"))).snapshot();
        IptablesDump dump = applied(withLocal, IptablesRuleWriterTest.CLUSTER_CIDR, IpFamily.IPV4);
        Flows.run(dump, List.of(tcp("local endpoints only", "10.0.0.2", "172.30.0.41", 80, "10.0.1.1:80, 10.0.1.2:80", false)));
        assertTrue(dump.table("nat").has(ChainNames.serviceLocal(withLocal.servicePorts().iterator().next().name())));

        ProxySnapshot noLocal = new TestSnapshots().add(svc)
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.0.1.3").onNode("host1"))).snapshot();
        String payload = new IptablesRuleWriter(IpFamily.IPV4, IptablesRuleWriterTest.CLUSTER_CIDR).write(noLocal, IptablesDump.empty(), true);
        assertTrue(payload.contains("-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 has no local endpoints\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j DROP\n"), payload);
        Flows.run(IptablesDump.empty().apply(payload), List.of(tcp("no local endpoints: DROP", "10.0.0.2", "172.30.0.41", 80, "DROP", false)));
    }

    @Test
    void sessionAffinityStillReachesEveryEndpointOnFirstPacket() {
        ProxySnapshot snap = new TestSnapshots()
                .add(IptablesRuleWriterTest.affinity(Fixtures.clusterIPService("ns5", "svc5", "172.30.0.45", "p80", 80, "TCP"), 10800))
                .add(Fixtures.slice("ns5", "s", "svc5", "p80", 80, "TCP", Ep.ready("10.180.0.3"), Ep.ready("10.180.0.4"), Ep.ready("10.180.0.5")))
                .snapshot();
        IptablesDump dump = applied(snap, IptablesRuleWriterTest.CLUSTER_CIDR, IpFamily.IPV4);
        Flows.assertShares(dump, "10.0.0.2", "172.30.0.45", 80,
                Map.of("10.180.0.3:80", 1 / 3.0, "10.180.0.4:80", 1 / 3.0, "10.180.0.5:80", 1 / 3.0));
    }

    @Test
    void ipv6ClusterIP() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Fixtures.clusterIPService("ns1", "svc1", "fd00:172:30:0:0:0:0:41", "p80", 80, "TCP"))
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("fd00:10:180::1"), Ep.ready("fd00:10:180::2:1")))
                .snapshot();
        IptablesConfig config = IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00:10::/64")));
        String payload = new IptablesRuleWriter(IpFamily.IPV6, config).write(snap, IptablesDump.empty(), true);
        assertTrue(payload.contains("-d fd00:172:30::41 --dport 80 ! -s fd00:10::/64 -j KUBE-MARK-MASQ\n"), payload);
        assertTrue(payload.contains("-j DNAT --to-destination [fd00:10:180::1]:80\n"), payload);
        assertTrue(payload.contains("-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS\n"), payload);
        assertTrue(!payload.contains("127.0.0.0/8"), "no IPv4 in an IPv6 payload");
        Flows.run(IptablesDump.empty().apply(payload), List.of(
                tcp("pod to cluster IP", "fd00:10::2", "fd00:172:30::41", 80, "[fd00:10:180::1]:80, [fd00:10:180::2:1]:80", false)));
        String v4 = new IptablesRuleWriter(IpFamily.IPV4, config).write(snap, IptablesDump.empty(), true);
        assertTrue(!v4.contains("fd00"), "the IPv4 payload holds no IPv6 service:\n" + v4);
    }

    @Test
    void tracerSaysWhenItCannotJudgeARule() {
        IptablesDump dump = IptablesDump.parse("""
                *nat
                :PREROUTING ACCEPT [0:0]
                :DOCKER - [0:0]
                -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
                -A DOCKER -i docker0 -j RETURN
                COMMIT
                """);
        List<PacketTracer.Outcome> out = new PacketTracer(dump, List.of(dev.ferry.core.IpAddresses.parse("192.168.0.2")))
                .trace(new PacketTracer.Packet(IpFamily.IPV4, Protocol.TCP, dev.ferry.core.IpAddresses.parse("10.0.0.2"),
                        dev.ferry.core.IpAddresses.parse("192.168.0.2"), 80, PacketTracer.Origin.EXTERNAL));
        assertEquals(1, out.size());
        assertEquals(PacketTracer.Verdict.UNKNOWN, out.get(0).verdict());
        assertTrue(out.get(0).problem().contains("-i is not modelled"), out.get(0).problem());
    }
}
