package dev.ferry.core;

import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.ferry.core.Fixtures.clusterIPService;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceConverterTest {

    private final List<String> problems = new ArrayList<>();
    private final Problems sink = (o, f, m) -> problems.add(o + " " + f + ": " + m);

    private ServicePort only(Service s) {
        Map<ServicePortName, ServicePort> ports = ServiceConverter.convert(s, sink);
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(1, ports.size());
        return ports.values().iterator().next();
    }

    @Test
    void loadBalancerWithLocalPolicyAffinityAndProxyModeIngress() {
        Service s = new ServiceBuilder(clusterIPService("ns", "lb", "172.30.0.9", "", 80, "UDP"))
                .editSpec().withType("LoadBalancer").withExternalTrafficPolicy("Local").withHealthCheckNodePort(32000)
                .withSessionAffinity("ClientIP").withExternalIPs("192.0.2.7").withLoadBalancerSourceRanges(" 203.0.113.0/24 ")
                .editFirstPort().withNodePort(31000).endPort().endSpec()
                .withNewStatus().withNewLoadBalancer().withIngress(
                        new LoadBalancerIngressBuilder().withIp("198.51.100.1").build(),
                        new LoadBalancerIngressBuilder().withIp("198.51.100.2").withIpMode("VIP").build(),
                        new LoadBalancerIngressBuilder().withIp("198.51.100.3").withIpMode("Proxy").build(),
                        new LoadBalancerIngressBuilder().withHostname("lb.example").build())
                .endLoadBalancer().endStatus().build();
        ServicePort p = only(s);
        assertEquals("ns/lb", p.name().toString(), "an unnamed port is left out of the name");
        assertEquals(Protocol.UDP, p.protocol());
        assertEquals(31000, p.nodePort());
        assertEquals(List.of("198.51.100.1", "198.51.100.2"), p.loadBalancerIPs().stream().map(IpAddresses::format).toList());
        assertEquals(List.of("192.0.2.7"), p.externalIPs().stream().map(IpAddresses::format).toList());
        assertEquals("203.0.113.0/24", p.loadBalancerSourceRanges().get(0).toString());
        assertEquals(10800, p.stickyMaxAgeSeconds(), "ClientIP without a timeout gets the default");
        assertTrue(p.externalPolicyLocal());
        assertEquals(32000, p.healthCheckNodePort());
    }

    @Test
    void externalPolicyLocalOnlyCountsWhenExternallyReachable() {
        Service s = new ServiceBuilder(clusterIPService("ns", "c", "172.30.0.9", "p", 80, "TCP"))
                .editSpec().withExternalTrafficPolicy("Local").withInternalTrafficPolicy("Local").endSpec().build();
        ServicePort p = only(s);
        assertFalse(p.externalPolicyLocal());
        assertTrue(p.internalPolicyLocal());
        assertFalse(p.usesClusterEndpoints());
    }

    @Test
    void badFieldsAreNamed() {
        ServiceConverter.convert(new ServiceBuilder(clusterIPService("ns", "a", "172.30.0.9", "p", 80, "TCP"))
                .editSpec().withSessionAffinity("ClientIP").withNewSessionAffinityConfig().withNewClientIP()
                .withTimeoutSeconds(0).endClientIP().endSessionAffinityConfig().endSpec().build(), sink);
        ServiceConverter.convert(new ServiceBuilder(clusterIPService("ns", "b", "172.30.0.9", "p", 80, "TCP"))
                .editSpec().withType("NodePort").withLoadBalancerSourceRanges("10.0.0.0/40").endSpec().build(), sink);
        ServiceConverter.convert(new ServiceBuilder(clusterIPService("ns", "c", "172.30.0.9", "p", 80, "TCP"))
                .editSpec().withType("NodePort").editFirstPort().withNodePort(70000).endPort().endSpec().build(), sink);
        ServiceConverter.convert(new ServiceBuilder(clusterIPService("ns", "d", "", "p", 80, "TCP"))
                .editSpec().withClusterIPs().endSpec().build(), sink);
        ServiceConverter.convert(new ServiceBuilder(clusterIPService("ns", "e", "172.30.0.9", "p", 80, "TCP"))
                .editSpec().withClusterIPs("172.30.0.9", "172.30.0.10").endSpec().build(), sink);
        assertEquals(List.of(
                "Service ns/a spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 out of range 1..86400",
                "Service ns/b spec.loadBalancerSourceRanges[0]: \"10.0.0.0/40\": prefix length 40 exceeds 32",
                "Service ns/c spec.ports[0].nodePort: 70000 out of range 0..65535",
                "Service ns/d spec.clusterIP: missing (use \"None\" for a headless Service)",
                "Service ns/e spec.clusterIPs: at most one address per IP family"), problems);
    }
}
