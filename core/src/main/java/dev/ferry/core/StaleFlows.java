package dev.ferry.core;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which UDP conntrack flows of one IP family keep sending a Service's traffic where it must no
 * longer go. UDP has no connection end, so a client that keeps sending refreshes its flow
 * forever and the kernel keeps using the DNAT result stored in it, even after the endpoint is
 * gone, or keeps the un-NATed result of a packet that arrived before the Service had rules.
 *
 * <p>Upstream's rule (kube-proxy's conntrack reconciler, pkg/proxy/conntrack/cleanup.go): a UDP
 * flow is stale when
 * <ul>
 * <li>its original destination is a Service frontend, ClusterIP, external IP or load-balancer IP
 *     with the service port, and its reply source (where the flow was DNATed to, or the frontend
 *     itself when it was not) is not a serving endpoint IP:port of that service port; or
 * <li>its original destination port is the service port's NodePort, its original destination is
 *     an address of this node (only such packets reach KUBE-NODEPORTS; upstream looks at the port
 *     alone, which also deletes this node's flows to other nodes' NodePorts on every sync), and
 *     its reply source is not a serving endpoint.
 * </ul>
 * Serving means the endpoint's serving condition, whatever its readiness, topology or traffic
 * policy: a policy change must not cut flows to an endpoint that still serves, as with TCP.
 *
 * <p>A service port with no serving endpoint at all is checked against the empty set, so every
 * flow to it is stale (upstream first skipped such ports and so blackholed one-way senders for
 * hours once a Service scaled to zero; kubernetes#139628, fixed by #139629). The frontends of
 * service ports that were removed since the last check are checked the same way (#141371),
 * unless a current service port now uses the same frontend.
 *
 * <p>Immutable; pure (no I/O).
 */
public final class StaleFlows {

    public static final int IPPROTO_UDP = 17;

    /** The parts of a conntrack flow the rule reads. */
    public record Flow(int protocol, InetAddress originalDestination, int originalDestinationPort,
                       InetAddress replySource, int replySourcePort) {

        public Flow {
            Objects.requireNonNull(originalDestination, "originalDestination");
            Objects.requireNonNull(replySource, "replySource");
        }
    }

    /** An address (compared by its bytes only, so IPv6 scope ids do not matter) and a port. */
    private record HostPort(Address ip, int port) {
    }

    private record Address(byte[] bytes) {
        static Address of(InetAddress a) {
            return new Address(a.getAddress());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Address && Arrays.equals(bytes, ((Address) o).bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    private final IpFamily family;
    private final Map<HostPort, Set<HostPort>> byFrontend;
    private final Map<Integer, Set<HostPort>> byNodePort;
    private final Predicate<InetAddress> isLocalAddress;

    private StaleFlows(IpFamily family, Map<HostPort, Set<HostPort>> byFrontend, Map<Integer, Set<HostPort>> byNodePort,
                       Predicate<InetAddress> isLocalAddress) {
        this.family = family;
        this.byFrontend = byFrontend;
        this.byNodePort = byNodePort;
        this.isLocalAddress = isLocalAddress;
    }

    /**
     * The rule for {@code family}.
     *
     * @param current        the service ports the node serves now (any protocol; only UDP counts)
     * @param removed        service ports served at the previous check and gone since
     * @param isLocalAddress whether an address belongs to this node (for NodePort flows); pass
     *                       {@code a -> true} for upstream's port-only match
     */
    public static StaleFlows of(IpFamily family, Collection<ServicePortState> current, Collection<ServicePort> removed,
                                Predicate<InetAddress> isLocalAddress) {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(isLocalAddress, "isLocalAddress");
        Map<HostPort, Set<HostPort>> byFrontend = new HashMap<>();
        Map<Integer, Set<HostPort>> byNodePort = new HashMap<>();
        for (ServicePortState state : current) {
            ServicePort port = state.port();
            if (port.protocol() != Protocol.UDP) {
                continue;
            }
            Set<HostPort> serving = new HashSet<>();
            for (Endpoint ep : state.endpoints()) {
                if (ep.serving() && family.contains(ep.ip())) {
                    serving.add(new HostPort(Address.of(ep.ip()), ep.port()));
                }
            }
            Set<HostPort> endpoints = Set.copyOf(serving);
            frontends(family, port).forEach(f -> byFrontend.put(f, endpoints));
            if (port.nodePort() != 0) {
                byNodePort.put(port.nodePort(), endpoints);
            }
        }
        for (ServicePort port : removed) {
            if (port.protocol() != Protocol.UDP) {
                continue;
            }
            frontends(family, port).forEach(f -> byFrontend.putIfAbsent(f, Set.of()));
            if (port.nodePort() != 0) {
                byNodePort.putIfAbsent(port.nodePort(), Set.of());
            }
        }
        return new StaleFlows(family, Map.copyOf(byFrontend), Map.copyOf(byNodePort), isLocalAddress);
    }

    private static Set<HostPort> frontends(IpFamily family, ServicePort port) {
        Set<HostPort> out = new HashSet<>();
        for (Collection<InetAddress> ips : List.of(port.clusterIPs(), port.externalIPs(), port.loadBalancerIPs())) {
            for (InetAddress ip : ips) {
                if (family.contains(ip)) {
                    out.add(new HostPort(Address.of(ip), port.port()));
                }
            }
        }
        return out;
    }

    /** True when no flow can be stale (no UDP service port of this family): the dump can be skipped. */
    public boolean isEmpty() {
        return byFrontend.isEmpty() && byNodePort.isEmpty();
    }

    public IpFamily family() {
        return family;
    }

    /** Whether {@code flow} must be deleted. */
    public boolean isStale(Flow flow) {
        if (flow.protocol() != IPPROTO_UDP || !family.contains(flow.originalDestination())) {
            return false;
        }
        HostPort reply = new HostPort(Address.of(flow.replySource()), flow.replySourcePort());
        Address destination = Address.of(flow.originalDestination());
        Set<HostPort> serving = byFrontend.get(new HostPort(destination, flow.originalDestinationPort()));
        if (serving != null && !serving.contains(reply)) {
            return true;
        }
        serving = byNodePort.get(flow.originalDestinationPort());
        return serving != null && !serving.contains(reply) && isLocalAddress.test(flow.originalDestination());
    }
}
