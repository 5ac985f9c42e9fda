package dev.ferry.core;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a backend needs to know about one port of one Service, already validated.
 * Address lists hold both families; each backend picks its own with {@link IpFamily#contains}.
 *
 * @param stickyMaxAgeSeconds ClientIP affinity timeout, 0 when the Service has no affinity
 * @param externalPolicyLocal externalTrafficPolicy Local on an externally reachable Service
 * @param healthCheckNodePort 0 when none
 * @param trafficDistribution spec.trafficDistribution, "" when unset
 */
public record ServicePort(
        ServicePortName name,
        List<InetAddress> clusterIPs,
        int port,
        int nodePort,
        List<InetAddress> externalIPs,
        List<InetAddress> loadBalancerIPs,
        List<Cidr> loadBalancerSourceRanges,
        int stickyMaxAgeSeconds,
        boolean externalPolicyLocal,
        boolean internalPolicyLocal,
        int healthCheckNodePort,
        String trafficDistribution) {

    public ServicePort {
        Objects.requireNonNull(name, "name");
        clusterIPs = List.copyOf(clusterIPs);
        externalIPs = List.copyOf(externalIPs);
        loadBalancerIPs = List.copyOf(loadBalancerIPs);
        loadBalancerSourceRanges = List.copyOf(loadBalancerSourceRanges);
        trafficDistribution = trafficDistribution == null ? "" : trafficDistribution;
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range 1..65535");
        }
        if (nodePort < 0 || nodePort > 65535) {
            throw new IllegalArgumentException("nodePort " + nodePort + " out of range 0..65535");
        }
    }

    /** A ClusterIP-only service port, the common case in tests and examples. */
    public static ServicePort clusterIP(ServicePortName name, InetAddress clusterIP, int port) {
        return new ServicePort(name, List.of(clusterIP), port, 0, List.of(), List.of(), List.of(),
                0, false, false, 0, "");
    }

    public Protocol protocol() {
        return name.protocol();
    }

    public Optional<InetAddress> clusterIP(IpFamily family) {
        // Called per service port on every sync: a plain loop, no stream.
        for (int i = 0; i < clusterIPs.size(); i++) {
            if (family.contains(clusterIPs.get(i))) {
                return Optional.of(clusterIPs.get(i));
            }
        }
        return Optional.empty();
    }

    public boolean sessionAffinity() {
        return stickyMaxAgeSeconds > 0;
    }

    /** Reachable from outside the cluster: NodePort, LoadBalancer IPs or external IPs. */
    public boolean externallyAccessible() {
        return nodePort != 0 || !loadBalancerIPs.isEmpty() || !externalIPs.isEmpty();
    }

    /**
     * Some traffic to this port is balanced over every endpoint in the cluster. Any externally
     * reachable port needs them: with externalTrafficPolicy Local, traffic from pods and from the
     * node itself is still short-circuited to the cluster endpoints.
     */
    public boolean usesClusterEndpoints() {
        return !internalPolicyLocal || externallyAccessible();
    }

    /** Some traffic to this port goes only to endpoints on this node. */
    public boolean usesLocalEndpoints() {
        return internalPolicyLocal || (externallyAccessible() && externalPolicyLocal);
    }
}
