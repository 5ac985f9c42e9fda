package dev.ferry.core;

import dev.ferry.core.ServicePortPlan.InternalMasquerade;
import dev.ferry.core.ServicePortPlan.Route;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decisions every mode expresses, as a table of cases: where internal and external traffic
 * goes (cluster or local endpoints, REJECT without any, DROP under a Local policy without local
 * ones), what is masqueraded, the Local-policy short-circuits, the source-range firewall.
 */
class ServicePortPlanTest {

    private static final NodeInfo NODE = new NodeInfo("node-a", Map.of(), List.of(ip("192.168.0.10")));
    private static final Cidr PODS = Cidr.parse("10.244.0.0/16");
    private static final ServicePortPlan.Planner PLANNER =
            new ServicePortPlan.Planner(IpFamily.IPV4, false, new LocalTraffic.SourceCidr(PODS), ip("192.168.0.10"));

    private static InetAddress ip(String text) {
        return IpAddresses.parse(text);
    }

    /** A TCP service port on 10.96.0.1:80; {@code nodePort} 0 for none. */
    private static ServicePort port(int nodePort, boolean internalLocal, boolean externalLocal, List<String> lbIPs,
                                    List<String> sourceRanges, int affinity) {
        return new ServicePort(new ServicePortName("ns", "svc", "http", Protocol.TCP), List.of(ip("10.96.0.1")), 80,
                nodePort, List.of(), lbIPs.stream().map(ServicePortPlanTest::ip).toList(),
                sourceRanges.stream().map(Cidr::parse).toList(), affinity, externalLocal, internalLocal, 0, "");
    }

    private static Endpoint endpoint(String ip, boolean local, boolean ready) {
        return new Endpoint(ip(ip), 8080, ready, true, !ready, local ? "node-a" : "node-b", local, Set.of(), Set.of());
    }

    private static ServicePortPlan plan(ServicePort port, Endpoint... endpoints) {
        List<Endpoint> eps = List.of(endpoints);
        ServicePortState state = new ServicePortState(port, eps, EndpointSelector.select(port, eps, NODE),
                EndpointSelection.NONE);
        return PLANNER.plan(state).orElseThrow();
    }

    private static List<String> ips(List<Endpoint> eps) {
        List<String> out = new ArrayList<>();
        eps.forEach(e -> out.add(IpAddresses.format(e.ip())));
        return out;
    }

    @Test
    void clusterPolicyUsesEveryReadyEndpointAndMasqueradesTrafficFromOutsideThePods() {
        ServicePortPlan p = plan(port(30080, false, false, List.of(), List.of(), 0),
                endpoint("10.244.1.1", false, true), endpoint("10.244.2.1", true, true));
        assertEquals(Route.CLUSTER, p.internal());
        assertEquals(Route.CLUSTER, p.external());
        assertEquals(List.of("10.244.1.1", "10.244.2.1"), ips(p.endpoints(p.internal())));
        assertEquals(InternalMasquerade.NOT_FROM_PODS, p.internalMasquerade());
        assertTrue(p.masqueradesExternal(), "external traffic may go to other nodes");
        assertTrue(p.hasExternalEntry());
        assertFalse(p.firewalled());
    }

    @Test
    void noEndpointsRejectsEveryKindOfTraffic() {
        ServicePortPlan p = plan(port(30080, false, false, List.of(), List.of(), 0));
        assertEquals(Route.REJECT, p.internal());
        assertEquals(Route.REJECT, p.external());
        assertFalse(p.hasEndpoints());
        assertFalse(p.hasExternalEntry());
        assertEquals(InternalMasquerade.NONE, p.internalMasquerade(), "nothing served, nothing masqueraded");
    }

    @Test
    void internalLocalWithoutLocalEndpointsDrops() {
        ServicePortPlan p = plan(port(0, true, false, List.of(), List.of(), 0), endpoint("10.244.1.1", false, true));
        assertEquals(Route.DROP, p.internal());
        assertTrue(p.hasEndpoints(), "some endpoint exists, just not here");
        assertEquals(List.of(), p.endpoints(p.internal()));
    }

    @Test
    void externalLocalGoesToLocalEndpointsAndShortCircuitsPodsAndTheNode() {
        ServicePortPlan p = plan(port(30080, false, true, List.of(), List.of(), 0),
                endpoint("10.244.1.1", false, true), endpoint("10.244.2.1", true, true));
        assertEquals(Route.CLUSTER, p.internal());
        assertEquals(Route.LOCAL, p.external());
        assertEquals(List.of("10.244.2.1"), ips(p.endpoints(p.external())));
        assertFalse(p.masqueradesExternal(), "the client's address is kept");
        assertTrue(p.podShortCircuit(), "pods reaching an external address: no policy");
        assertEquals(new LocalTraffic.SourceCidr(PODS), p.localTraffic());
        assertTrue(p.nodeTrafficToCluster(), "the node's own traffic goes to every endpoint");
    }

    @Test
    void externalLocalWithoutLocalEndpointsDropsExternalTrafficOnly() {
        ServicePortPlan p = plan(port(30080, false, true, List.of(), List.of(), 0), endpoint("10.244.1.1", false, true));
        assertEquals(Route.CLUSTER, p.internal());
        assertEquals(Route.DROP, p.external());
        assertTrue(p.hasExternalEntry(), "the entry still short-circuits pods and the node");
    }

    @Test
    void aLocalPolicyFallsBackToServingAndTerminatingLocalEndpoints() {
        ServicePortPlan p = plan(port(0, true, false, List.of(), List.of(), 0), endpoint("10.244.2.1", true, false));
        assertEquals(Route.LOCAL, p.internal());
        assertEquals(List.of("10.244.2.1"), ips(p.endpoints(Route.LOCAL)));
    }

    @Test
    void sourceRangesFirewallLoadBalancerTrafficAndAdmitTheNodeWhenTheyHoldIt() {
        ServicePortPlan outside = plan(port(0, false, false, List.of("203.0.113.7"), List.of("198.51.100.0/24"), 0),
                endpoint("10.244.1.1", false, true));
        assertTrue(outside.firewalled());
        assertFalse(outside.firewallAdmitsNode());
        ServicePortPlan holdsNode = plan(port(0, false, false, List.of("203.0.113.7"),
                List.of("198.51.100.0/24", "192.168.0.0/24"), 0), endpoint("10.244.1.1", false, true));
        assertTrue(holdsNode.firewallAdmitsNode(), "a VIP-like LB IP on the node loops back with itself as source");
        ServicePortPlan noEndpoints = plan(port(0, false, false, List.of("203.0.113.7"), List.of("198.51.100.0/24"), 0));
        assertFalse(noEndpoints.firewalled(), "rejected before any firewall");
    }

    @Test
    void masqueradeAllAndAffinity() {
        ServicePortPlan.Planner all = new ServicePortPlan.Planner(IpFamily.IPV4, true, LocalTraffic.NONE, null);
        ServicePort port = port(0, false, false, List.of(), List.of(), 10800);
        List<Endpoint> eps = List.of(endpoint("10.244.1.1", false, true));
        ServicePortState state = new ServicePortState(port, eps, EndpointSelector.select(port, eps, NODE),
                EndpointSelection.NONE);
        ServicePortPlan p = all.plan(state).orElseThrow();
        assertEquals(InternalMasquerade.ALL, p.internalMasquerade());
        assertEquals(10800, p.affinitySeconds());
        ServicePortPlan.Planner noPods = new ServicePortPlan.Planner(IpFamily.IPV4, false, LocalTraffic.NONE, null);
        assertEquals(InternalMasquerade.NONE, noPods.plan(state).orElseThrow().internalMasquerade(),
                "no local-traffic detector: nothing to tell pods from others");
    }

    @Test
    void aPortWithoutAClusterIpOfTheFamilyHasNoPlan() {
        ServicePort port = port(0, false, false, List.of(), List.of(), 0);
        ServicePortState state = new ServicePortState(port, List.of(), EndpointSelection.NONE, EndpointSelection.NONE);
        assertTrue(new ServicePortPlan.Planner(IpFamily.IPV6, false, LocalTraffic.NONE, null).plan(state).isEmpty());
    }

    @Test
    void anInterfaceDetectorMasqueradesAndShortCircuitsAsACidrDoes() {
        ServicePort port = port(30080, false, true, List.of(), List.of(), 0);
        List<Endpoint> eps = List.of(endpoint("10.244.1.1", false, true), endpoint("10.244.2.1", true, true));
        ServicePortState state = new ServicePortState(port, eps, EndpointSelector.select(port, eps, NODE),
                EndpointSelection.NONE);
        for (LocalTraffic detector : List.of(new LocalTraffic.InInterface("cbr0"), new LocalTraffic.InInterfacePrefix("veth"))) {
            ServicePortPlan p = new ServicePortPlan.Planner(IpFamily.IPV4, false, detector, null).plan(state).orElseThrow();
            assertEquals(InternalMasquerade.NOT_FROM_PODS, p.internalMasquerade(), detector::toString);
            assertTrue(p.podShortCircuit(), detector::toString);
            assertEquals(detector, p.localTraffic());
        }
        ServicePortPlan none = new ServicePortPlan.Planner(IpFamily.IPV4, false, LocalTraffic.NONE, null).plan(state).orElseThrow();
        assertFalse(none.podShortCircuit(), "no detector: no pod short-circuit, as upstream");
        assertTrue(none.nodeTrafficToCluster(), "the node's own traffic does not depend on the detector");
    }
}
