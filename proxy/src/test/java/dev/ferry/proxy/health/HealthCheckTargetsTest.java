package dev.ferry.proxy.health;

import dev.ferry.core.Endpoint;
import dev.ferry.core.EndpointSelection;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortName;
import dev.ferry.core.ServicePortState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HealthCheckTargetsTest {
    static final NamespacedName LB = new NamespacedName("ns", "lb");

    static Endpoint ep(String ip, int port, boolean ready, boolean terminating, boolean local) {
        return new Endpoint(IpAddresses.parse(ip), port, ready, ready || terminating, terminating,
                local ? "this-node" : "other-node", local, Set.of(), Set.of());
    }

    static ServicePortState port(String svc, String portName, int hcnp, List<Endpoint> endpoints) {
        ServicePortName name = new ServicePortName("ns", svc, portName, Protocol.TCP);
        ServicePort p = new ServicePort(name, List.of(IpAddresses.parse("10.96.0.5"), IpAddresses.parse("fd00::5")), 80,
                30080, List.of(), List.of(IpAddresses.parse("192.0.2.10")), List.of(), 0, hcnp != 0, false, hcnp, "");
        return new ServicePortState(p, endpoints, EndpointSelection.NONE, EndpointSelection.NONE);
    }

    static ProxySnapshot snapshot(ServicePortState... states) {
        TreeMap<ServicePortName, ServicePortState> map = new TreeMap<>(ProxySnapshot.ORDER);
        for (ServicePortState s : states) {
            map.put(s.name(), s);
        }
        return new ProxySnapshot(1, new NodeInfo("this-node", Map.of()), map, Set.of(), false);
    }

    @Test
    void countsDistinctReadyLocalIpsOverEveryPortAndBothFamilies() {
        HealthCheckTargets t = HealthCheckTargets.of(snapshot(
                port("lb", "http", 31000, List.of(
                        ep("10.244.0.21", 8080, true, false, true),
                        ep("10.244.0.22", 8080, true, false, true),
                        ep("10.244.9.9", 8080, true, false, false),      // another node's
                        ep("10.244.0.23", 8080, false, true, true),      // terminating, still serving
                        ep("fd00:244::21", 8080, true, false, true))),
                port("lb", "https", 31000, List.of(
                        ep("10.244.0.21", 8443, true, false, true),      // same pod, second port
                        ep("10.244.0.24", 8443, false, false, true))),   // not ready
                port("plain", "http", 0, List.of(ep("10.244.0.21", 8080, true, false, true)))));
        assertEquals(Map.of(LB, 31000), t.ports());
        assertEquals(Map.of(LB, 3), t.localEndpoints());
    }

    @Test
    void aServiceWithOnlyRemoteOrTerminatingEndpointsCountsZero() {
        HealthCheckTargets t = HealthCheckTargets.of(snapshot(port("lb", "http", 31000, List.of(
                ep("10.244.9.9", 8080, true, false, false),
                ep("10.244.0.23", 8080, false, true, true)))));
        assertEquals(Map.of(LB, 31000), t.ports());
        assertEquals(Map.of(LB, 0), t.localEndpoints());
    }
}
