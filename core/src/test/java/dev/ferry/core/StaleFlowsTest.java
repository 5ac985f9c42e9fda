package dev.ferry.core;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Table tests of the stale-flow rule; the first is upstream's TestCleanStaleEntries case. */
class StaleFlowsTest {

    // Upstream's fixture (pkg/proxy/conntrack/cleanup_test.go).
    static final String CLUSTER_IP = "172.30.1.1";
    static final String EXTERNAL_IP = "192.168.99.100";
    static final String LOAD_BALANCER_IP = "1.2.3.4";
    static final String SERVING = "10.240.0.4";
    static final String NON_SERVING = "10.240.1.5";
    static final String DELETED = "10.240.2.6";
    static final int OLD_ENDPOINT_PORT = 8080;
    static final int ENDPOINT_PORT = 9090;
    static final int SERVICE_PORT = 8000;
    static final int NODE_PORT = 32000;
    static final int NON_SERVICE_PORT = 3000;
    static final int TCP = 6;
    static final int UDP = 17;
    static final int SCTP = 132;
    /** Ours: NodePort flows go to an address of this node. */
    static final String NODE_IP = "192.168.0.10";
    static final Predicate<InetAddress> NODE_ONLY = a -> a.equals(ip(NODE_IP));

    @Test
    void upstreamCleanStaleEntriesCase() {
        StaleFlows rule = StaleFlows.of(IpFamily.IPV4, upstreamService(), List.of(), NODE_ONLY);
        List<StaleFlows.Flow> before = new ArrayList<>();
        List<StaleFlows.Flow> expectedStale = new ArrayList<>();

        // The endpoint changed port but kept its IP: flows to the old port are stale.
        for (String frontend : List.of(CLUSTER_IP, LOAD_BALANCER_IP, EXTERNAL_IP)) {
            StaleFlows.Flow f = flow(UDP, frontend, SERVICE_PORT, SERVING, OLD_ENDPOINT_PORT);
            before.add(f);
            expectedStale.add(f);
        }
        for (String dnat : List.of(SERVING, NON_SERVING, DELETED)) {
            for (int proto : new int[] {TCP, UDP, SCTP}) {
                for (String frontend : List.of(CLUSTER_IP, LOAD_BALANCER_IP, EXTERNAL_IP)) {
                    for (int port : new int[] {SERVICE_PORT, NON_SERVICE_PORT}) {
                        StaleFlows.Flow f = flow(proto, frontend, port, dnat, ENDPOINT_PORT);
                        before.add(f);
                        if (proto == UDP && port == SERVICE_PORT && !dnat.equals(SERVING)) {
                            expectedStale.add(f);
                        }
                    }
                }
                StaleFlows.Flow nodePort = flow(proto, NODE_IP, NODE_PORT, dnat, ENDPOINT_PORT);
                before.add(nodePort);
                if (proto == UDP && !dnat.equals(SERVING)) {
                    expectedStale.add(nodePort);
                }
            }
        }
        // Flows that were never DNATed (they arrived before the rules): reply source is the frontend.
        for (String frontend : List.of(CLUSTER_IP, LOAD_BALANCER_IP, EXTERNAL_IP)) {
            for (int port : new int[] {SERVICE_PORT, NON_SERVICE_PORT}) {
                StaleFlows.Flow f = flow(UDP, frontend, port, frontend, port);
                before.add(f);
                if (port == SERVICE_PORT) {
                    expectedStale.add(f);
                }
            }
        }

        List<StaleFlows.Flow> stale = before.stream().filter(rule::isStale).toList();

        assertEquals(expectedStale, stale);
        // 3 old-port flows, 2 gone endpoints x 3 frontends, 2 NodePort flows, 3 un-NATed flows.
        assertEquals(14, stale.size());
        assertEquals(72, before.size());
    }

    @Test
    void nodePortFlowsCountOnlyWhenTheDestinationIsThisNode() {
        List<ServicePortState> service = upstreamService();
        StaleFlows ours = StaleFlows.of(IpFamily.IPV4, service, List.of(), NODE_ONLY);
        StaleFlows portOnly = StaleFlows.of(IpFamily.IPV4, service, List.of(), a -> true);
        // This node sending to another node's NodePort: not DNATed here, reply from that node.
        StaleFlows.Flow toOtherNode = flow(UDP, "192.168.0.11", NODE_PORT, "192.168.0.11", NODE_PORT);
        StaleFlows.Flow toThisNode = flow(UDP, NODE_IP, NODE_PORT, DELETED, ENDPOINT_PORT);
        StaleFlows.Flow localhost = flow(UDP, "127.0.0.1", NODE_PORT, DELETED, ENDPOINT_PORT);

        assertFalse(ours.isStale(toOtherNode));
        assertTrue(portOnly.isStale(toOtherNode), "upstream's port-only match");
        assertTrue(ours.isStale(toThisNode));
        assertTrue(StaleFlows.of(IpFamily.IPV4, service, List.of(), InetAddress::isLoopbackAddress).isStale(localhost));
        assertFalse(ours.isStale(flow(UDP, NODE_IP, NODE_PORT, SERVING, ENDPOINT_PORT)));
    }

    @Test
    void aServiceScaledToZeroLosesAllItsFlows() {
        // kubernetes#139628: skipping such ports left one-way senders blackholed for hours.
        ServicePort port = udpPort(CLUSTER_IP, NODE_PORT);
        StaleFlows rule = StaleFlows.of(IpFamily.IPV4, List.of(state(port)), List.of(), NODE_ONLY);

        assertTrue(rule.isStale(flow(UDP, CLUSTER_IP, SERVICE_PORT, DELETED, ENDPOINT_PORT)));
        assertTrue(rule.isStale(flow(UDP, NODE_IP, NODE_PORT, DELETED, ENDPOINT_PORT)));
        assertFalse(rule.isStale(flow(UDP, CLUSTER_IP, NON_SERVICE_PORT, DELETED, ENDPOINT_PORT)));
    }

    @Test
    void aServiceWhoseOnlyEndpointIsNotServingLosesItsFlowsToo() {
        ServicePort port = udpPort(CLUSTER_IP, 0);
        StaleFlows rule = StaleFlows.of(IpFamily.IPV4, List.of(state(port, ep(NON_SERVING, false, false))), List.of(), NODE_ONLY);
        assertTrue(rule.isStale(flow(UDP, CLUSTER_IP, SERVICE_PORT, NON_SERVING, ENDPOINT_PORT)));
    }

    @Test
    void aTerminatingEndpointThatStillServesKeepsItsFlows() {
        ServicePort port = udpPort(CLUSTER_IP, 0);
        StaleFlows rule = StaleFlows.of(IpFamily.IPV4, List.of(state(port, ep(SERVING, true, true))), List.of(), NODE_ONLY);
        assertFalse(rule.isStale(flow(UDP, CLUSTER_IP, SERVICE_PORT, SERVING, ENDPOINT_PORT)));
    }

    @Test
    void theFirstEndpointAppearingClearsFlowsThatWereNeverDnated() {
        // kubernetes#48370: a packet sent before the Service had endpoints made an un-NATed flow.
        ServicePort port = udpPort(CLUSTER_IP, 0);
        StaleFlows rule = StaleFlows.of(IpFamily.IPV4, List.of(state(port, ep(SERVING, true, false))), List.of(), NODE_ONLY);
        assertTrue(rule.isStale(flow(UDP, CLUSTER_IP, SERVICE_PORT, CLUSTER_IP, SERVICE_PORT)));
    }

    @Test
    void removedServicePortsLoseTheirFlowsUnlessAFrontendIsReused() {
        ServicePort gone = udpPort(CLUSTER_IP, NODE_PORT);
        ServicePort reusing = new ServicePort(new ServicePortName("test", "other", "dns", Protocol.UDP),
                List.of(ip("172.30.9.9")), SERVICE_PORT, NODE_PORT, List.of(), List.of(), List.of(), 0, false, false, 0, "");
        StaleFlows rule = StaleFlows.of(IpFamily.IPV4, List.of(state(reusing, ep(SERVING, true, false))), List.of(gone), NODE_ONLY);

        assertTrue(rule.isStale(flow(UDP, CLUSTER_IP, SERVICE_PORT, DELETED, ENDPOINT_PORT)), "the removed Service's ClusterIP");
        assertFalse(rule.isStale(flow(UDP, NODE_IP, NODE_PORT, SERVING, ENDPOINT_PORT)), "the NodePort now belongs to 'other'");
        assertTrue(rule.isStale(flow(UDP, NODE_IP, NODE_PORT, DELETED, ENDPOINT_PORT)));
    }

    @Test
    void onlyTheRulesFamilyCounts() {
        ServicePort dual = new ServicePort(new ServicePortName("test", "dual", "dns", Protocol.UDP),
                List.of(ip(CLUSTER_IP), ip("fd00:30::1")), SERVICE_PORT, NODE_PORT, List.of(), List.of(), List.of(),
                0, false, false, 0, "");
        ServicePortState state = state(dual, ep(SERVING, true, false), ep("fd00:240::4", true, false));
        StaleFlows v6 = StaleFlows.of(IpFamily.IPV6, List.of(state), List.of(), a -> a.equals(ip("fd00::10")));
        StaleFlows v4 = StaleFlows.of(IpFamily.IPV4, List.of(state), List.of(), NODE_ONLY);

        assertFalse(v6.isStale(flow(UDP, "fd00:30::1", SERVICE_PORT, "fd00:240::4", ENDPOINT_PORT)));
        assertTrue(v6.isStale(flow(UDP, "fd00:30::1", SERVICE_PORT, "fd00:240::6", ENDPOINT_PORT)));
        assertTrue(v6.isStale(flow(UDP, "fd00::10", NODE_PORT, "fd00:240::6", ENDPOINT_PORT)), "IPv6 NodePort flow");
        assertFalse(v6.isStale(flow(UDP, CLUSTER_IP, SERVICE_PORT, DELETED, ENDPOINT_PORT)), "an IPv4 flow is v4's business");
        assertTrue(v4.isStale(flow(UDP, CLUSTER_IP, SERVICE_PORT, DELETED, ENDPOINT_PORT)));
        assertFalse(v4.isStale(flow(UDP, CLUSTER_IP, SERVICE_PORT, SERVING, ENDPOINT_PORT)));
    }

    @Test
    void ipv6AddressesMatchWhateverTheirScope() throws Exception {
        ServicePort port = udpPort("fe80::1", 0);
        StaleFlows rule = StaleFlows.of(IpFamily.IPV6, List.of(state(port, ep("fe80::4", true, false))), List.of(), a -> false);
        InetAddress scoped = java.net.Inet6Address.getByAddress(null, ip("fe80::4").getAddress(), 2);
        assertFalse(rule.isStale(new StaleFlows.Flow(UDP, ip("fe80::1"), SERVICE_PORT, scoped, ENDPOINT_PORT)));
    }

    @Test
    void withoutUdpServicePortsNothingIsChecked() {
        ServicePort tcp = ServicePort.clusterIP(new ServicePortName("test", "web", "", Protocol.TCP), ip(CLUSTER_IP), 80);
        assertTrue(StaleFlows.of(IpFamily.IPV4, List.of(state(tcp)), List.of(), NODE_ONLY).isEmpty());
        assertFalse(StaleFlows.of(IpFamily.IPV4, upstreamService(), List.of(), NODE_ONLY).isEmpty());
    }

    /** Upstream's Service: tcp, udp and sctp ports 8000 (udp and sctp with NodePort 32000), one serving endpoint. */
    static List<ServicePortState> upstreamService() {
        List<ServicePortState> out = new ArrayList<>();
        for (Protocol p : Protocol.values()) {
            ServicePort port = new ServicePort(new ServicePortName("test", "cleanup-test", "test-" + p.lower(), p),
                    List.of(ip(CLUSTER_IP)), SERVICE_PORT, p == Protocol.TCP ? 0 : NODE_PORT,
                    List.of(ip(EXTERNAL_IP)), List.of(ip(LOAD_BALANCER_IP)), List.of(), 0, false, false, 0, "");
            out.add(state(port, ep(SERVING, true, false), ep(NON_SERVING, false, false)));
        }
        return out;
    }

    static ServicePort udpPort(String clusterIP, int nodePort) {
        return new ServicePort(new ServicePortName("test", "cleanup-test", "test-udp", Protocol.UDP),
                List.of(ip(clusterIP)), SERVICE_PORT, nodePort, List.of(), List.of(), List.of(), 0, false, false, 0, "");
    }

    static ServicePortState state(ServicePort port, Endpoint... endpoints) {
        return new ServicePortState(port, List.of(endpoints), EndpointSelection.NONE, EndpointSelection.NONE);
    }

    static Endpoint ep(String ip, boolean serving, boolean terminating) {
        return new Endpoint(ip(ip), ENDPOINT_PORT, serving && !terminating, serving, terminating, "", false, Set.of(), Set.of());
    }

    static StaleFlows.Flow flow(int proto, String origDst, int origDstPort, String replySrc, int replySrcPort) {
        return new StaleFlows.Flow(proto, ip(origDst), origDstPort, ip(replySrc), replySrcPort);
    }

    static InetAddress ip(String literal) {
        return IpAddresses.parse(literal);
    }
}
