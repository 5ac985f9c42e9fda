package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTrafficDetection;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortName;
import dev.ferry.netfilter.IptablesDump;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.ferry.iptables.Flows.Flow.tcp;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each --detect-local-mode in iptables mode: the two rules that depend on the detector, with
 * upstream's arguments (the ClusterIP masquerade of traffic not from local pods, and the
 * externalTrafficPolicy=Local short-circuit of pod traffic), then packets through them: from a pod
 * (by source, or by the interface it arrives on) and from outside, to the ClusterIP and the LB IP.
 */
class LocalTrafficRulesTest {

    private static final String CLUSTER_IP = "172.30.0.41";
    private static final String LB_IP = "1.2.3.4";
    private static final String ALL = "10.180.0.1:80, 10.180.2.1:80";
    private static final String LOCAL_ONLY = "10.180.0.1:80";

    /** A LoadBalancer with externalTrafficPolicy Local, one endpoint here and one on host2; the Node with {@code podCidrs}. */
    private static ProxySnapshot snapshot(String... podCidrs) {
        return new TestSnapshots()
                .node(new NodeBuilder(Fixtures.node(TestSnapshots.NODE, java.util.Map.of()))
                        .withNewSpec().withPodCIDRs(podCidrs).endSpec().build())
                .add(Svc.of("ns1", "svc1", "LoadBalancer", CLUSTER_IP).p80(3001).lb(LB_IP).etpLocal(30000).build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1").onNode(TestSnapshots.NODE),
                        Ep.ready("10.180.2.1").onNode("host2")))
                .snapshot();
    }

    private static IptablesConfig config(LocalTrafficDetection detection) {
        return new IptablesConfig(IptablesConfig.defaults().network().withLocalTraffic(detection), true);
    }

    private static String payload(ProxySnapshot snap, LocalTrafficDetection detection) {
        return new IptablesRuleWriter(IpFamily.IPV4, config(detection), false, false).write(snap, IptablesDump.empty(), true);
    }

    private static final ServicePortName NAME = new ServicePortName("ns1", "svc1", "p80", dev.ferry.core.Protocol.TCP);
    private static final String SVC = ChainNames.service(NAME);
    private static final String EXT = ChainNames.external(NAME);

    /** The masquerade rule of the ClusterIP with {@code notLocal} and the pod short-circuit with {@code local}. */
    private static void assertDetectorRules(String payload, String notLocal, String local) {
        String masquerade = "-A " + SVC + " -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d " + CLUSTER_IP
                + " --dport 80 " + notLocal + " -j KUBE-MARK-MASQ\n";
        String shortCircuit = "-A " + EXT + " -m comment --comment \"pod traffic for ns1/svc1:p80 external destinations\" "
                + local + " -j " + SVC + "\n";
        assertTrue(payload.contains(masquerade), "missing " + masquerade + " in\n" + payload);
        assertTrue(payload.contains(shortCircuit), "missing " + shortCircuit + " in\n" + payload);
    }

    @Test
    void clusterCidrIsBySourceAsBefore() {
        String payload = payload(snapshot(), LocalTrafficDetection.clusterCidr(List.of(Cidr.parse("10.0.0.0/8"))));
        assertDetectorRules(payload, "! -s 10.0.0.0/8", "-s 10.0.0.0/8");
    }

    @Test
    void nodeCidrIsBySourceInTheNodesPodCidrOfTheFamily() {
        ProxySnapshot snap = snapshot("fd00:180::/64", "10.180.0.0/24");
        String payload = payload(snap, LocalTrafficDetection.nodeCidr());
        assertDetectorRules(payload, "! -s 10.180.0.0/24", "-s 10.180.0.0/24");
        IptablesDump dump = IptablesDump.empty().apply(payload);
        Flows.run(dump, List.of(
                tcp("a pod of this node to the ClusterIP", "10.180.0.9", CLUSTER_IP, 80, ALL, false),
                tcp("a pod of another node (still in the cluster) is masqueraded", "10.180.2.9", CLUSTER_IP, 80, ALL, true),
                tcp("a pod of this node to the LB IP: short-circuited to every endpoint", "10.180.0.9", LB_IP, 80, ALL, false),
                tcp("another node's pod to the LB IP: the Local policy", "10.180.2.9", LB_IP, 80, LOCAL_ONLY, false)));
    }

    @Test
    void nodeCidrWithoutPodCidrsDetectsNothingAsUpstreamsNoOpDetector() {
        String payload = payload(snapshot(), LocalTrafficDetection.nodeCidr());
        assertFalse(payload.contains("-A " + SVC + " -m comment --comment \"ns1/svc1:p80 cluster IP\""), payload);
        assertFalse(payload.contains("pod traffic for"), payload);
        Flows.run(IptablesDump.empty().apply(payload), List.of(
                tcp("outside to the ClusterIP: not masqueraded without a detector", "203.0.113.2", CLUSTER_IP, 80, ALL, false)));
    }

    @Test
    void bridgeInterfaceIsByTheInterfaceThePacketArrivesOn() {
        String payload = payload(snapshot(), LocalTrafficDetection.bridgeInterface("cbr0"));
        assertDetectorRules(payload, "! -i cbr0", "-i cbr0");
        IptablesDump dump = IptablesDump.empty().apply(payload);
        Flows.runArrivingOn("cbr0", dump, List.of(
                tcp("from the bridge to the ClusterIP", "10.180.0.9", CLUSTER_IP, 80, ALL, false),
                tcp("from the bridge, whatever the source", "203.0.113.2", CLUSTER_IP, 80, ALL, false),
                tcp("from the bridge to the LB IP: short-circuited", "10.180.0.9", LB_IP, 80, ALL, false)));
        Flows.runArrivingOn("eth0", dump, List.of(
                tcp("from elsewhere to the ClusterIP: masqueraded", "10.180.0.9", CLUSTER_IP, 80, ALL, true),
                tcp("from elsewhere to the LB IP: the Local policy", "203.0.113.2", LB_IP, 80, LOCAL_ONLY, false)));
        Flows.runArrivingOn("cbr01", dump, List.of(
                tcp("a longer name is another interface", "10.180.0.9", CLUSTER_IP, 80, ALL, true)));
    }

    @Test
    void interfaceNamePrefixIsByTheStartOfTheInterfacesName() {
        String payload = payload(snapshot(), LocalTrafficDetection.interfaceNamePrefix("veth"));
        assertDetectorRules(payload, "! -i veth+", "-i veth+");
        IptablesDump dump = IptablesDump.empty().apply(payload);
        for (String pod : List.of("veth", "veth1a2b3c", "vethffff0000")) {
            Flows.runArrivingOn(pod, dump, List.of(
                    tcp("from " + pod + " to the ClusterIP", "10.180.0.9", CLUSTER_IP, 80, ALL, false),
                    tcp("from " + pod + " to the LB IP: short-circuited", "10.180.0.9", LB_IP, 80, ALL, false)));
        }
        Flows.runArrivingOn("eth0", dump, List.of(
                tcp("from eth0 to the ClusterIP: masqueraded", "10.180.0.9", CLUSTER_IP, 80, ALL, true),
                tcp("from eth0 to the LB IP: the Local policy", "203.0.113.2", LB_IP, 80, LOCAL_ONLY, false)));
        Flows.runArrivingOn("vet0", dump, List.of(
                tcp("a shorter name does not start with the prefix", "10.180.0.9", CLUSTER_IP, 80, ALL, true)));
    }

    @Test
    void masqueradeAllWinsOverEveryDetector() {
        IptablesConfig all = new IptablesConfig(IptablesConfig.defaults().network()
                .withLocalTraffic(LocalTrafficDetection.bridgeInterface("cbr0")).withMasqueradeAll(true), true);
        String payload = new IptablesRuleWriter(IpFamily.IPV4, all, false, false).write(snapshot(), IptablesDump.empty(), true);
        assertTrue(payload.contains("-d " + CLUSTER_IP + " --dport 80 -j KUBE-MARK-MASQ\n"), payload);
        assertTrue(payload.contains("-i cbr0 -j " + SVC + "\n"), "the short-circuit still uses the detector:\n" + payload);
    }

    @Test
    void ipv6UsesTheSameInterfaceAndTheIpv6PodCidr() {
        ProxySnapshot snap = new TestSnapshots()
                .node(new NodeBuilder(Fixtures.node(TestSnapshots.NODE, java.util.Map.of()))
                        .withNewSpec().withPodCIDRs("10.180.0.0/24", "fd00:180::/64").endSpec().build())
                .add(Fixtures.clusterIPService("ns1", "svc1", "fd00:172:30::41", "p80", 80, "TCP"))
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("fd00:180::1")))
                .snapshot();
        String byNode = new IptablesRuleWriter(IpFamily.IPV6, config(LocalTrafficDetection.nodeCidr()), false, false)
                .write(snap, IptablesDump.empty(), true);
        assertTrue(byNode.contains("--dport 80 ! -s fd00:180::/64 -j KUBE-MARK-MASQ\n"), byNode);
        String byPrefix = new IptablesRuleWriter(IpFamily.IPV6, config(LocalTrafficDetection.interfaceNamePrefix("cali")),
                false, false).write(snap, IptablesDump.empty(), true);
        assertTrue(byPrefix.contains("--dport 80 ! -i cali+ -j KUBE-MARK-MASQ\n"), byPrefix);
    }
}
