package dev.ferry.core;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.ferry.core.Fixtures.Ep;
import static dev.ferry.core.Fixtures.clusterIPService;
import static dev.ferry.core.Fixtures.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChangeTrackerTest {

    private final List<String> problems = new ArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final ChangeTracker tracker = new ChangeTracker("node1",
            (object, field, message) -> problems.add(object + " " + field + ": " + message), requests::incrementAndGet);

    private static final ServicePortName P80 = new ServicePortName("ns", "svc", "p80", Protocol.TCP);

    @Test
    void serviceAndSlicesBecomeAServicePortWithSortedEndpoints() {
        tracker.updateService(null, clusterIPService("ns", "svc", "172.30.0.1", "p80", 80, "TCP"));
        tracker.updateEndpointSlice(null, slice("ns", "svc-a", "svc", "p80", 8080, "TCP",
                Ep.ready("10.0.0.10"), Ep.ready("10.0.0.2")));
        tracker.updateEndpointSlice(null, slice("ns", "svc-b", "svc", "p80", 8080, "TCP", Ep.ready("10.0.0.3")));

        ProxySnapshot s = tracker.snapshot();

        ServicePortState state = s.servicePortMap().get(P80);
        // Upstream sorts by "ip:port" text: 10.0.0.10 before 10.0.0.2.
        assertEquals(List.of("10.0.0.10:8080", "10.0.0.2:8080", "10.0.0.3:8080"),
                state.selection(IpFamily.IPV4).clusterEndpoints().stream().map(Endpoint::hostPort).toList());
        assertEquals(Map.of(), Map.of(), "no problems");
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(3, requests.get());
        assertEquals(java.util.Set.of(new NamespacedName("ns", "svc")), s.changedServices());
    }

    @Test
    void updateBackToTheAppliedStateIsANoOp() {
        Service v1 = clusterIPService("ns", "svc", "172.30.0.1", "p80", 80, "TCP");
        tracker.updateService(null, v1);
        tracker.snapshot();

        Service v2 = clusterIPService("ns", "svc", "172.30.0.1", "p80", 81, "TCP");
        tracker.updateService(v1, v2);
        assertEquals(1, tracker.pendingServiceChanges());
        tracker.updateService(v2, v1);
        assertEquals(0, tracker.pendingServiceChanges(), "v1 -> v2 -> v1 coalesces to nothing");

        // A change that the data plane does not see (an annotation) is no change at all.
        Service annotated = new ServiceBuilder(v1).editMetadata().withAnnotations(Map.of("a", "b")).endMetadata().build();
        tracker.updateService(v1, annotated);
        assertEquals(0, tracker.pendingServiceChanges());
        assertTrue(tracker.snapshot().changedServices().isEmpty());
    }

    @Test
    void deletedServiceAndSliceDisappear() {
        Service svc = clusterIPService("ns", "svc", "172.30.0.1", "p80", 80, "TCP");
        EndpointSlice sl = slice("ns", "svc-a", "svc", "p80", 8080, "TCP", Ep.ready("10.0.0.2"));
        tracker.updateService(null, svc);
        tracker.updateEndpointSlice(null, sl);
        tracker.snapshot();

        tracker.updateEndpointSlice(sl, null);
        ProxySnapshot s = tracker.snapshot();
        assertFalse(s.servicePortMap().get(P80).selection(IpFamily.IPV4).hasAnyEndpoints());

        tracker.updateService(svc, null);
        assertTrue(tracker.snapshot().servicePortMap().isEmpty());
    }

    @Test
    void portRenameRemovesTheOldServicePort() {
        Service v1 = clusterIPService("ns", "svc", "172.30.0.1", "p80", 80, "TCP");
        Service v2 = clusterIPService("ns", "svc", "172.30.0.1", "http", 80, "TCP");
        tracker.updateService(null, v1);
        tracker.snapshot();
        tracker.updateService(v1, v2);
        ProxySnapshot s = tracker.snapshot();
        assertEquals(List.of("ns/svc:http"), s.servicePortMap().keySet().stream().map(Object::toString).toList());
    }

    @Test
    void invalidObjectsAreReportedWithTheFieldAndSkipped() {
        tracker.updateService(null, clusterIPService("ns", "good", "172.30.0.1", "p80", 80, "TCP"));
        tracker.updateService(null, clusterIPService("ns", "badip", "172.30.0.999", "p80", 80, "TCP"));
        tracker.updateService(null, clusterIPService("ns", "badport", "172.30.0.3", "p80", 70000, "TCP"));
        tracker.updateService(null, clusterIPService("ns", "badproto", "172.30.0.4", "p80", 80, "ICMP"));
        tracker.updateService(null, clusterIPService("ns", "Bad\"Name", "172.30.0.5", "p80", 80, "TCP"));
        tracker.updateEndpointSlice(null, slice("ns", "x", "good", "p80", 80, "TCP", Ep.ready("10.0.0.300")));
        tracker.updateEndpointSlice(null, new EndpointSliceBuilder().withNewMetadata().withNamespace("ns")
                .withName("nolabel").endMetadata().withAddressType("IPv4").build());

        ProxySnapshot s = tracker.snapshot();
        assertEquals(List.of("ns/good:p80"), s.servicePortMap().keySet().stream().map(Object::toString).toList());
        assertEquals(6, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("Service ns/badip spec.clusterIP"), problems.get(0));
        assertTrue(problems.get(1).startsWith("Service ns/badport spec.ports[0].port"), problems.get(1));
        assertTrue(problems.get(2).startsWith("Service ns/badproto spec.ports[0].protocol"), problems.get(2));
        assertTrue(problems.get(3).startsWith("Service ns/Bad\\\"Name metadata.name"), problems.get(3));
        assertTrue(problems.get(4).startsWith("EndpointSlice ns/x endpoints[0].addresses[0]"), problems.get(4));
        assertTrue(problems.get(5).startsWith("EndpointSlice ns/nolabel metadata.labels[kubernetes.io/service-name]"),
                problems.get(5));
    }

    @Test
    void skipsOtherProxiesHeadlessAndExternalName() {
        Service other = new ServiceBuilder(clusterIPService("ns", "other", "172.30.0.1", "p", 80, "TCP"))
                .editMetadata().withLabels(Map.of(ServiceConverter.SERVICE_PROXY_NAME_LABEL, "foo")).endMetadata().build();
        Service headless = new ServiceBuilder(clusterIPService("ns", "headless", "None", "p", 80, "TCP"))
                .editSpec().withClusterIPs("None").endSpec().build();
        Service external = new ServiceBuilder(clusterIPService("ns", "ext", "172.30.0.2", "p", 80, "TCP"))
                .editSpec().withType("ExternalName").withExternalName("example.com").endSpec().build();
        tracker.updateService(null, other);
        tracker.updateService(null, headless);
        tracker.updateService(null, external);
        assertTrue(tracker.snapshot().servicePortMap().isEmpty());
        assertTrue(problems.isEmpty(), problems.toString());
    }

    @Test
    void duplicateEndpointAcrossSlicesPrefersTheReadyCopy() {
        tracker.updateService(null, clusterIPService("ns", "svc", "172.30.0.1", "p80", 80, "TCP"));
        tracker.updateEndpointSlice(null, slice("ns", "a", "svc", "p80", 80, "TCP", Ep.ready("10.0.0.2").notReady()));
        tracker.updateEndpointSlice(null, slice("ns", "b", "svc", "p80", 80, "TCP", Ep.ready("10.0.0.2")));
        ServicePortState st = tracker.snapshot().servicePortMap().get(P80);
        assertEquals(1, st.endpoints().size());
        assertTrue(st.endpoints().get(0).ready());
    }

    @Test
    void nodeZoneChangeReselectsEveryService() {
        tracker.updateService(null, clusterIPService("ns", "svc", "172.30.0.1", "p80", 80, "TCP"));
        tracker.updateEndpointSlice(null, slice("ns", "a", "svc", "p80", 80, "TCP",
                Ep.ready("10.0.0.1").zones("zone-a"), Ep.ready("10.0.0.2").zones("zone-b")));
        assertEquals(2, tracker.snapshot().servicePortMap().get(P80).selection(IpFamily.IPV4).clusterEndpoints().size());

        tracker.updateNode(Fixtures.node("node1", Map.of(NodeInfo.ZONE_LABEL, "zone-b")));
        tracker.updateNode(Fixtures.node("other-node", Map.of(NodeInfo.ZONE_LABEL, "zone-a"))); // not ours
        ProxySnapshot s = tracker.snapshot();
        assertTrue(s.nodeChanged());
        assertEquals(List.of("10.0.0.2:80"), s.servicePortMap().get(P80).selection(IpFamily.IPV4)
                .clusterEndpoints().stream().map(Endpoint::hostPort).toList());

        tracker.updateNode(Fixtures.node("node1", Map.of(NodeInfo.ZONE_LABEL, "zone-b")));
        assertFalse(tracker.snapshot().nodeChanged(), "same labels again: no change");
    }

    @Test
    void dualStackEndpointsAreSelectedPerFamily() {
        Service svc = new ServiceBuilder(clusterIPService("ns", "svc", "172.30.0.1", "p80", 80, "TCP"))
                .editSpec().withClusterIPs("172.30.0.1", "fd00::1").endSpec().build();
        tracker.updateService(null, svc);
        tracker.updateEndpointSlice(null, slice("ns", "v4", "svc", "p80", 80, "TCP", Ep.ready("10.0.0.1")));
        tracker.updateEndpointSlice(null, slice("ns", "v6", "svc", "p80", 80, "TCP", Ep.ready("fd00:10::1")));
        ServicePortState st = tracker.snapshot().servicePortMap().get(P80);
        assertEquals(List.of("10.0.0.1:80"), st.selection(IpFamily.IPV4).clusterEndpoints().stream().map(Endpoint::hostPort).toList());
        assertEquals(List.of("[fd00:10::1]:80"), st.selection(IpFamily.IPV6).clusterEndpoints().stream().map(Endpoint::hostPort).toList());
        assertEquals("fd00::1", IpAddresses.format(st.port().clusterIP(IpFamily.IPV6).orElseThrow()));
    }

    @Test
    void theNodesPodCidrsAreParsedAndABadOneIsReportedAndLeftOut() {
        List<NodeInfo> heard = new ArrayList<>();
        tracker.onNodeUpdate(heard::add);
        tracker.updateNode(new io.fabric8.kubernetes.api.model.NodeBuilder(Fixtures.node("node1", Map.of()))
                .withNewSpec().withPodCIDRs("10.244.1.0/24", "not-a-cidr", "fd00:244:1::/64").endSpec().build());
        ProxySnapshot s = tracker.snapshot();
        assertEquals(List.of(Cidr.parse("10.244.1.0/24"), Cidr.parse("fd00:244:1::/64")), s.node().podCidrs());
        assertEquals(List.of("Node node1 spec.podCIDRs[1]: \"not-a-cidr\" is not a CIDR"), problems);
        assertEquals(1, heard.size(), "the listener hears the update");
        assertEquals(s.node(), heard.get(0));

        tracker.updateNode(new io.fabric8.kubernetes.api.model.NodeBuilder(Fixtures.node("node1", Map.of()))
                .withNewSpec().withPodCIDRs("10.244.2.0/24").endSpec().build());
        ProxySnapshot changed = tracker.snapshot();
        assertTrue(changed.nodeChanged(), "new podCIDRs change the node");
        assertEquals(List.of(Cidr.parse("10.244.2.0/24")), changed.node().podCidrs());
        tracker.updateNode(Fixtures.node("other-node", Map.of()));
        assertEquals(2, heard.size(), "another node's update is not this node's");
    }
}
