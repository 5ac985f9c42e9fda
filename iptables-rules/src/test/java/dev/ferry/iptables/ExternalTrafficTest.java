package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.netfilter.IptablesDump;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

import static dev.ferry.iptables.Flows.Flow.tcp;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Packet flows for NodePorts, external and LB IPs, traffic policies; ported from upstream's tests. */
class ExternalTrafficTest {

    private static final IptablesConfig CONFIG = IptablesRuleWriterTest.CLUSTER_CIDR;
    private static final List<InetAddress> NODE_IPS = Flows.NODE_IPS.stream().map(IpAddresses::parse).toList();

    private static String write(ProxySnapshot snap, IptablesConfig config, IpFamily family) {
        return new IptablesRuleWriter(family, config, false, false).write(snap, IptablesDump.empty(), NODE_IPS);
    }

    private static IptablesDump dump(ProxySnapshot snap, IptablesConfig config, IpFamily family) {
        String full = new IptablesRuleWriter(family, config, false, false).write(snap, IptablesDump.empty(), true);
        String nodePorts = new IptablesRuleWriter(family, config, false, false).write(snap, IptablesDump.empty(), NODE_IPS);
        // Jumps from the first write, rules (with --nodeport-addresses resolved) from the second.
        IptablesDump d = IptablesDump.empty().apply(full);
        return d.apply(nodePorts);
    }

    /** Upstream TestExternalTrafficPolicyLocal / TestExternalTrafficPolicyCluster (LB, NodePort, external IP). */
    @Test
    void externalTrafficPolicyLocal() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "172.30.0.41").p80(3001).lb("1.2.3.4")
                        .externalIPs("192.168.99.11").etpLocal(30000).build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1").onNode(TestSnapshots.NODE),
                        Ep.ready("10.180.2.1").onNode("host2")))
                .snapshot();
        IptablesDump d = dump(snap, CONFIG, IpFamily.IPV4);
        String all = "10.180.0.1:80, 10.180.2.1:80";
        Flows.run(d, List.of(
                tcp("pod to cluster IP hits all endpoints", "10.0.0.2", "172.30.0.41", 80, all, false),
                tcp("pod to external IP: short-circuited, all endpoints", "10.0.0.2", "192.168.99.11", 80, all, false),
                tcp("outside to external IP: local endpoint, source kept", "203.0.113.2", "192.168.99.11", 80, "10.180.0.1:80", false),
                tcp("pod to LB IP: short-circuited", "10.0.0.2", "1.2.3.4", 80, all, false),
                tcp("outside to LB IP: local only, unmasqueraded", "203.0.113.2", "1.2.3.4", 80, "10.180.0.1:80", false),
                tcp("outside to NodePort: local only, unmasqueraded", "203.0.113.2", "192.168.0.2", 3001, "10.180.0.1:80", false),
                tcp("node to NodePort: all endpoints, masqueraded", "192.168.0.2", "192.168.0.2", 3001, all, true),
                tcp("node to localhost NodePort", "127.0.0.1", "127.0.0.1", 3001, all, true),
                tcp("health check node port accepted", "203.0.113.2", "192.168.0.2", 30000, "", false)));
        String payload = new IptablesRuleWriter(IpFamily.IPV4, CONFIG, false, false).write(snap, IptablesDump.empty(), false);
        assertTrue(payload.contains(":" + ChainNames.serviceLocal(snap.servicePorts().iterator().next().name()) + " "), payload);
    }

    @Test
    void externalTrafficPolicyCluster() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "172.30.0.41").p80(3001).lb("1.2.3.4")
                        .externalIPs("192.168.99.11").etpCluster().build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1").onNode(TestSnapshots.NODE),
                        Ep.ready("10.180.2.1").onNode("host2")))
                .snapshot();
        String all = "10.180.0.1:80, 10.180.2.1:80";
        Flows.run(dump(snap, CONFIG, IpFamily.IPV4), List.of(
                tcp("pod to cluster IP", "10.0.0.2", "172.30.0.41", 80, all, false),
                tcp("pod to external IP: masqueraded", "10.0.0.2", "192.168.99.11", 80, all, true),
                tcp("outside to LB IP: masqueraded", "203.0.113.2", "1.2.3.4", 80, all, true),
                tcp("outside to NodePort: masqueraded", "203.0.113.2", "192.168.0.2", 3001, all, true),
                tcp("NodePort on another local address", "203.0.113.2", "192.168.1.2", 3001, all, true),
                tcp("not a node address: no NodePort", "203.0.113.2", "192.168.5.5", 3001, "", false)));
    }

    /** Upstream TestNoEndpointsReject and TestLoadBalancer's no-local-endpoint DROP. */
    @Test
    void noEndpointsRejectEverywhere() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "172.30.0.41").p80(3001).lb("1.2.3.4")
                        .externalIPs("192.168.99.11").build())
                .snapshot();
        Flows.run(dump(snap, CONFIG, IpFamily.IPV4), List.of(
                tcp("cluster IP", "10.0.0.2", "172.30.0.41", 80, "REJECT", false),
                tcp("external IP", "203.0.113.2", "192.168.99.11", 80, "REJECT", false),
                tcp("LB IP", "203.0.113.2", "1.2.3.4", 80, "REJECT", false),
                tcp("NodePort", "203.0.113.2", "192.168.0.2", 3001, "REJECT", false),
                // Upstream rejects in INPUT and FORWARD only; from the node the kernel refuses it.
                tcp("localhost NodePort from the node: not ours to reject", "127.0.0.1", "127.0.0.1", 3001, "", false)));
    }

    /** Upstream TestLoadBalancer / source ranges: only allowed sources, NodePort unaffected. */
    @Test
    void loadBalancerSourceRanges() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "172.30.0.41").p80(3001).lb("1.2.3.4", "5.6.7.8")
                        .sourceRanges("203.0.113.0/25", "192.168.0.0/24", "fd00::/8").build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")))
                .snapshot();
        Flows.run(dump(snap, CONFIG, IpFamily.IPV4), List.of(
                tcp("allowed source", "203.0.113.2", "1.2.3.4", 80, "10.180.0.1:80", true),
                tcp("allowed source, second LB IP", "203.0.113.2", "5.6.7.8", 80, "10.180.0.1:80", true),
                tcp("denied source", "203.0.113.130", "1.2.3.4", 80, "DROP", false),
                tcp("denied source to NodePort is fine", "203.0.113.130", "192.168.0.2", 3001, "10.180.0.1:80", true),
                tcp("pod (not in a range) denied", "10.0.0.2", "1.2.3.4", 80, "DROP", false)));
    }

    /** Upstream: a source range holding the node IP also lets the LB IPs themselves in (VIP on the node). */
    @Test
    void sourceRangeWithTheNodeIPAllowsTheLoadBalancerIPsAsSource() {
        TestSnapshots t = new TestSnapshots().add(Svc.of("ns1", "svc1", "LoadBalancer", "172.30.0.41").p80(3001)
                        .lb("1.2.3.4").sourceRanges("192.168.0.0/24").build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")));
        t.node(new io.fabric8.kubernetes.api.model.NodeBuilder().withNewMetadata().withName(TestSnapshots.NODE).endMetadata()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress("192.168.0.2").endAddress().endStatus().build());
        String payload = new IptablesRuleWriter(IpFamily.IPV4, CONFIG, false, false).write(t.snapshot(), IptablesDump.empty(), false);
        assertTrue(payload.contains("--comment \"ns1/svc1:p80 loadbalancer IP\" -s 1.2.3.4 -j KUBE-EXT-"), payload);
        Flows.run(dump(t.snapshot(), CONFIG, IpFamily.IPV4), List.of(
                tcp("from the LB IP itself", "1.2.3.4", "1.2.3.4", 80, "10.180.0.1:80", true),
                tcp("from elsewhere", "203.0.113.2", "1.2.3.4", 80, "DROP", false)));
    }

    @Test
    void loadBalancerIPModeProxyIsNotProgrammed() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "172.30.0.41").p80(3001).lbProxyMode("1.2.3.4").build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")))
                .snapshot();
        String payload = write(snap, CONFIG, IpFamily.IPV4);
        assertFalse(payload.contains("1.2.3.4"), payload);
    }

    /** Upstream TestNodePorts: --nodeport-addresses CIDRs, localhost NodePorts, IPv6. */
    @Test
    void nodePortAddresses() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "NodePort", "172.30.0.41").p80(3001).build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")))
                .snapshot();
        String ep = "10.180.0.1:80";

        IptablesConfig onlyOne = withNodePorts(CONFIG, true, "192.168.0.0/24");
        String payload = write(snap, onlyOne, IpFamily.IPV4);
        assertTrue(payload.contains("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -d 192.168.0.2 -j KUBE-NODEPORTS\n"), payload);
        assertFalse(payload.contains("block incoming localnet"), "no loopback in the CIDRs: localhost NodePorts off");
        Flows.run(dump(snap, onlyOne, IpFamily.IPV4), List.of(
                tcp("matching node IP", "203.0.113.2", "192.168.0.2", 3001, ep, true),
                tcp("other node IP", "203.0.113.2", "192.168.1.2", 3001, "", false),
                tcp("localhost", "127.0.0.1", "127.0.0.1", 3001, "", false)));

        IptablesConfig withLoopback = withNodePorts(CONFIG, true, "192.168.0.0/24", "127.0.0.0/8");
        Flows.run(dump(snap, withLoopback, IpFamily.IPV4).apply("*nat\n-A KUBE-SERVICES -d 127.0.0.1 -j KUBE-NODEPORTS\nCOMMIT\n"), List.of(
                tcp("localhost allowed", "127.0.0.1", "127.0.0.1", 3001, ep, true)));

        IptablesConfig noLocalhost = withNodePorts(CONFIG, false);
        String p2 = write(snap, noLocalhost, IpFamily.IPV4);
        assertTrue(p2.contains("-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS\n"), p2);
        assertFalse(p2.contains("block incoming localnet"), p2);
        Flows.run(dump(snap, noLocalhost, IpFamily.IPV4), List.of(
                tcp("localhost off", "127.0.0.1", "127.0.0.1", 3001, "", false),
                tcp("node IP", "203.0.113.2", "192.168.1.2", 3001, ep, true)));

        IptablesConfig v6Only = withNodePorts(CONFIG, true, "2001:db8::/64");
        String v4 = write(snap, v6Only, IpFamily.IPV4);
        assertTrue(v4.contains("-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"), "no IPv4 CIDR: every address\n" + v4);
    }

    @Test
    void nodePortAddressesPrimary() {
        TestSnapshots t = new TestSnapshots().add(Svc.of("ns1", "svc1", "NodePort", "172.30.0.41").p80(3001).build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1")));
        t.node(new io.fabric8.kubernetes.api.model.NodeBuilder().withNewMetadata().withName(TestSnapshots.NODE).endMetadata()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress("192.168.1.2").endAddress().endStatus().build());
        String payload = write(t.snapshot(), withNodePorts(CONFIG, true, "primary"), IpFamily.IPV4);
        assertTrue(payload.contains("-d 192.168.1.2 -j KUBE-NODEPORTS\n"), payload);
        assertFalse(payload.contains("-d 192.168.0.2 -j KUBE-NODEPORTS"), payload);
        assertFalse(payload.contains("--dst-type LOCAL -j KUBE-NODEPORTS"), payload);
    }

    /** Upstream TestInternalTrafficPolicy with external access: cluster IP local-only, NodePort all. */
    @Test
    void internalLocalExternalCluster() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "NodePort", "172.30.0.41").p80(3001).itpLocal().build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("10.180.0.1").onNode(TestSnapshots.NODE),
                        Ep.ready("10.180.2.1").onNode("host2")))
                .snapshot();
        Flows.run(dump(snap, CONFIG, IpFamily.IPV4), List.of(
                tcp("cluster IP: local only", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80", false),
                tcp("NodePort: all", "203.0.113.2", "192.168.0.2", 3001, "10.180.0.1:80, 10.180.2.1:80", true)));
    }

    /** Upstream TestEndpointSliceWithTerminatingEndpoints: fallback per set, in the rules. */
    @Test
    void terminatingEndpointsFallback() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "172.30.0.41").p80(3001).lb("1.2.3.4").etpLocal(0).build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP",
                        Ep.ready("10.0.1.1").onNode("host2"),
                        Ep.ready("10.0.1.2").onNode(TestSnapshots.NODE).terminating(true),
                        Ep.ready("10.0.1.3").onNode(TestSnapshots.NODE).terminating(false)))
                .snapshot();
        Flows.run(dump(snap, CONFIG, IpFamily.IPV4), List.of(
                tcp("cluster: the ready one", "10.0.0.2", "172.30.0.41", 80, "10.0.1.1:80", false),
                tcp("external: local serving-terminating fallback", "203.0.113.2", "1.2.3.4", 80, "10.0.1.2:80", false)));
        ProxySnapshot none = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "172.30.0.41").p80(3001).lb("1.2.3.4").etpLocal(0).build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP",
                        Ep.ready("10.0.1.1").onNode("host2"),
                        Ep.ready("10.0.1.3").onNode(TestSnapshots.NODE).terminating(false)))
                .snapshot();
        Flows.run(dump(none, CONFIG, IpFamily.IPV4), List.of(
                tcp("not serving: no local endpoints, DROP", "203.0.113.2", "1.2.3.4", 80, "DROP", false),
                tcp("pods still reach the cluster endpoint", "10.0.0.2", "1.2.3.4", 80, "10.0.1.1:80", false)));
    }

    /** Topology hints only filter the cluster set: rules follow core's choice. */
    @Test
    void topologyHintsShapeTheClusterChain() {
        TestSnapshots t = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "ClusterIP", "172.30.0.41").p80(0).build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP",
                        Ep.ready("10.0.1.1").zones("zone-a"), Ep.ready("10.0.1.2").zones("zone-b")));
        t.node(Fixtures.node(TestSnapshots.NODE, Map.of(dev.ferry.core.NodeInfo.ZONE_LABEL, "zone-a")));
        Flows.run(dump(t.snapshot(), CONFIG, IpFamily.IPV4), List.of(
                tcp("same zone only", "10.0.0.2", "172.30.0.41", 80, "10.0.1.1:80", false)));
    }

    @Test
    void ipv6ExternalAndNodePorts() {
        ProxySnapshot snap = new TestSnapshots()
                .add(Svc.of("ns1", "svc1", "LoadBalancer", "fd00:172:30::41").p80(3001).lb("2001:db8:2::1")
                        .externalIPs("2001:db8:3::1", "192.168.99.11").build())
                .add(Fixtures.slice("ns1", "s", "svc1", "p80", 80, "TCP", Ep.ready("fd00:10:180::1")))
                .snapshot();
        IptablesConfig config = IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("fd00:10::/64")));
        String payload = write(snap, config, IpFamily.IPV6);
        assertFalse(payload.contains("192.168.99.11"), payload);
        assertTrue(payload.contains("-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS"), payload);
        Flows.run(dump(snap, config, IpFamily.IPV6), List.of(
                tcp("external IP", "2001:db8:9::1", "2001:db8:3::1", 80, "[fd00:10:180::1]:80", true),
                tcp("LB IP", "2001:db8:9::1", "2001:db8:2::1", 80, "[fd00:10:180::1]:80", true),
                tcp("NodePort", "2001:db8:9::1", "2001:db8::1", 3001, "[fd00:10:180::1]:80", true)));
    }

    @Test
    void conntrackTcpLiberalDropsTheInvalidRule() {
        ProxySnapshot snap = new TestSnapshots().snapshot();
        assertTrue(new IptablesRuleWriter(IpFamily.IPV4, CONFIG, false, false).write(snap, IptablesDump.empty(), false)
                .contains("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"));
        assertFalse(new IptablesRuleWriter(IpFamily.IPV4, CONFIG, false, true).write(snap, IptablesDump.empty(), false)
                .contains("INVALID"));
    }

    static IptablesConfig withNodePorts(IptablesConfig c, boolean localhost, String... addresses) {
        return new IptablesConfig(c.network().withNodePortAddresses(List.of(addresses)), localhost);
    }
}
