package dev.ferry.proxy.health;

import dev.ferry.core.Endpoint;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortState;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the health check node ports of a snapshot should say: the Services that have a
 * healthCheckNodePort (LoadBalancer with externalTrafficPolicy Local), their port, and how many
 * endpoints each has on this node.
 *
 * <p>The count is upstream's: distinct IPs of ready endpoints on this node over all the Service's
 * ports (an endpoint serving two ports counts once), both IP families together. Terminating
 * endpoints do not count even when they still serve, so a node whose only endpoints are
 * terminating answers 503 and the load balancer drains it.
 */
record HealthCheckTargets(Map<NamespacedName, Integer> ports, Map<NamespacedName, Integer> localEndpoints) {

    HealthCheckTargets {
        ports = Map.copyOf(ports);
        localEndpoints = Map.copyOf(localEndpoints);
    }

    static HealthCheckTargets of(ProxySnapshot snapshot) {
        Map<NamespacedName, Integer> ports = new TreeMap<>();
        Map<NamespacedName, Set<InetAddress>> local = new HashMap<>();
        for (ServicePortState state : snapshot.servicePorts()) {
            int hcnp = state.port().healthCheckNodePort();
            if (hcnp == 0) {
                continue;
            }
            NamespacedName service = state.name().service();
            ports.put(service, hcnp);
            Set<InetAddress> ips = local.computeIfAbsent(service, s -> new HashSet<>());
            for (Endpoint e : state.endpoints()) {
                if (e.local() && e.ready()) {
                    ips.add(e.ip());
                }
            }
        }
        Map<NamespacedName, Integer> counts = new TreeMap<>();
        local.forEach((service, ips) -> counts.put(service, ips.size()));
        return new HealthCheckTargets(ports, counts);
    }
}
