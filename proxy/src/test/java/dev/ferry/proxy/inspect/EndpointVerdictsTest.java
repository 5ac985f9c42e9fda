package dev.ferry.proxy.inspect;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortState;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reasons inspect gives, on snapshots the core built (so the in/out split is the proxy's own),
 * and trace on NodePort rules with externalTrafficPolicy Local.
 */
class EndpointVerdictsTest {

    private static ProxySnapshot snapshot(Service svc, io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice slice) {
        ChangeTracker t = new ChangeTracker(Cluster.NODE, (o, f, m) -> {
            throw new AssertionError(o + " " + f + " " + m);
        }, () -> { });
        t.updateNode(Fixtures.node(Cluster.NODE, Map.of(NodeInfo.ZONE_LABEL, "zone-a")));
        t.updateService(null, svc);
        t.updateEndpointSlice(null, slice);
        return t.snapshot();
    }

    private static List<String> reasons(ProxySnapshot snap) {
        ServicePortState state = snap.servicePorts().iterator().next();
        return EndpointVerdicts.of(state, snap.node()).stream()
                .map(v -> v.endpoint().hostPort() + " " + v.status() + " " + v.reason()).toList();
    }

    private static Service nodePortLocal() {
        return new ServiceBuilder(Fixtures.clusterIPService("default", "np", "10.96.0.50", "http", 80, "TCP"))
                .editSpec().withType("NodePort").withExternalTrafficPolicy("Local")
                .withPorts(new ServicePortBuilder().withName("http").withPort(80).withNodePort(30080).withProtocol("TCP")
                        .withTargetPort(new IntOrString(80)).build()).endSpec().build();
    }

    @Test
    void terminatingEndpointsAreTheFallbackWhenNoneIsReady() {
        ProxySnapshot snap = snapshot(Fixtures.clusterIPService("default", "t", "10.96.0.60", "http", 80, "TCP"),
                Fixtures.slice("default", "t-1", "t", "http", 80, "TCP", Ep.ready("10.244.0.1").terminating(true),
                        Ep.ready("10.244.0.2").terminating(false)));
        assertEquals(List.of(
                "10.244.0.1:80 in (cluster) terminating but serving, used as a fallback (no ready endpoint)",
                "10.244.0.2:80 out terminating and not serving"), reasons(snap));
    }

    @Test
    void nodeHintsForOtherNodes() {
        ProxySnapshot snap = snapshot(Fixtures.clusterIPService("default", "h", "10.96.0.61", "http", 80, "TCP"),
                Fixtures.slice("default", "h-1", "h", "http", 80, "TCP", Ep.ready("10.244.0.1").nodes(Cluster.NODE),
                        Ep.ready("10.244.0.2").nodes("node-b")));
        assertEquals(List.of("10.244.0.1:80 in (cluster) ready",
                "10.244.0.2:80 out hinted for other nodes [node-b] (topology hints)"), reasons(snap));
    }

    @Test
    void externalLocalPolicyUsesRemoteEndpointsOnlyForClusterTraffic() {
        ProxySnapshot snap = snapshot(nodePortLocal(), Fixtures.slice("default", "np-1", "np", "http", 80, "TCP",
                Ep.ready("10.244.0.1").onNode(Cluster.NODE), Ep.ready("10.244.0.2").onNode("node-b")));
        assertEquals(List.of("10.244.0.1:80 in (cluster+local) ready",
                "10.244.0.2:80 in (cluster) ready; not local, so not used for external traffic (Local traffic policy)"),
                reasons(snap));

        // trace on the rules our backend writes: outside clients reach only the local endpoint, unmasqueraded
        FakeNode node = Cluster.node(snap);
        node.routes.put(IpAddresses.parse("203.0.113.5"), "eth0");
        InspectGoldenTest.Run outside = InspectGoldenTest.run(node, snap, "trace", "--src", "203.0.113.5",
                "--dst", Cluster.NODE_IP, "--port", "30080");
        assertEquals(0, outside.code(), outside.err());
        assertTrue(outside.out().contains("service port: default/np:http (node port)\n"), outside.out());
        assertTrue(outside.out().endsWith("endpoints reachable:\n  10.244.0.1:80  100%  not masqueraded\n"), outside.out());
        // the node itself is short-circuited to every endpoint, masqueraded
        InspectGoldenTest.Run self = InspectGoldenTest.run(node, snap, "trace", "--src", Cluster.NODE_IP,
                "--dst", Cluster.NODE_IP, "--port", "30080");
        assertTrue(self.out().endsWith("endpoints reachable:\n  10.244.0.1:80  50.00% (1/2)  masqueraded\n"
                + "  10.244.0.2:80  50.00% (1/2)  masqueraded\n"), self.out());

        // node port flows are the Service's too (destination: a node address and the node port)
        node.flows.add(InspectGoldenTest.flow("203.0.113.5", 40000, Cluster.NODE_IP, 30080, "10.244.0.1", 80, true));
        node.flows.add(InspectGoldenTest.flow("203.0.113.5", 40001, "192.168.99.1", 30080, "10.244.0.1", 80, true));
        InspectGoldenTest.Run flows = InspectGoldenTest.run(node, snap, "inspect", "conntrack", "default/np");
        assertTrue(flows.out().startsWith("default/np:http TCP (IPv4): 1 flow\n  tcp  203.0.113.5:40000 -> 192.168.0.10:30080"),
                flows.out());
    }

    @Test
    void ipv6ServiceTracedThroughIp6tablesRules() {
        ProxySnapshot snap = snapshot(Fixtures.clusterIPService("default", "v6", "fd00:96::10", "http", 80, "TCP"),
                Fixtures.slice("default", "v6-1", "v6", "http", 80, "TCP", Ep.ready("fd00:244::21").onNode(Cluster.NODE),
                        Ep.ready("fd00:244::22").notReady()));
        FakeNode node = new FakeNode();
        node.saves.put(dev.ferry.core.IpFamily.IPV6, Cluster.iptablesSave(snap, dev.ferry.core.IpFamily.IPV6));
        node.saves.put(dev.ferry.core.IpFamily.IPV4, "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n");
        InspectGoldenTest.Run trace = InspectGoldenTest.run(node, snap, "trace", "--src", "fd00:244::99",
                "--dst", "fd00:96::10", "--port", "80", "--in-iface", "vpod");
        assertEquals(0, trace.code(), trace.err());
        assertTrue(trace.out().endsWith("endpoints reachable:\n  [fd00:244::21]:80  100%  not masqueraded\n"), trace.out());
        InspectGoldenTest.Run one = InspectGoldenTest.run(node, snap, "inspect", "service", "default/v6");
        assertTrue(one.out().contains("  programmed (IPv6, iptables):\n"), one.out());
        assertTrue(one.out().matches("(?s).*\\n    \\[fd00:244::22\\]:80  node -\\s+out\\s+not ready\\n.*"), one.out());
        InspectGoldenTest.Run all = InspectGoldenTest.run(node, snap, "inspect", "services");
        assertTrue(all.out().contains(" [fd00:96::10]:80 "), all.out());
    }
}
