package dev.ferry.core;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where each kind of traffic to one service port goes in one IP family: what upstream's proxiers
 * decide before they write anything (pkg/proxy/iptables and nftables, syncProxyRules), decided
 * here once for every mode. A backend only expresses the plan in its kernel API.
 *
 * <ul>
 *   <li><b>Endpoints</b>: the cluster and local endpoint sets, which of them serve internal traffic
 *       (ClusterIP, from pods and the node) and external traffic (NodePort, external and
 *       load-balancer IPs), per the internal and external traffic policies.</li>
 *   <li><b>Nothing to serve</b>: REJECT when the port has no usable endpoint anywhere; DROP when a
 *       Local policy finds none on this node ({@link Route}).</li>
 *   <li><b>Masquerade</b>: internal traffic the local-traffic detector ({@link LocalTraffic}) does
 *       not call local, i.e. not from this node's pods (or all of it with --masquerade-all); all
 *       external traffic under externalTrafficPolicy Cluster; under Local, only traffic the node
 *       sends itself, which also goes to the cluster endpoints, as does pod traffic to an external
 *       address (upstream's short-circuits).</li>
 *   <li><b>Firewall</b>: loadBalancerSourceRanges of the family; a source range holding the node's
 *       own address also admits the load-balancer IPs as sources (a VIP-like LB IP on the node).</li>
 *   <li><b>Affinity</b>: ClientIP affinity timeout, 0 without.</li>
 * </ul>
 *
 * <p>Pure and immutable; build one with {@link Planner#plan}.
 *
 * @param clusterIP        the port's ClusterIP of this family
 * @param externalIPs      its external IPs of this family
 * @param loadBalancerIPs  its load-balancer IPs of this family
 * @param sourceRanges     its loadBalancerSourceRanges of this family
 * @param internal         where internal traffic goes
 * @param external         where external traffic goes (meaningful when {@link #externallyAccessible()})
 * @param hasEndpoints     some endpoint can serve (else every kind of traffic is rejected)
 * @param usesClusterEndpoints  the cluster endpoint set serves some traffic (iptables: a KUBE-SVC chain)
 * @param usesLocalEndpoints    the local endpoint set serves some traffic (iptables: a KUBE-SVL chain)
 * @param internalMasquerade    which internal traffic is masqueraded
 * @param localTraffic     how this family tells traffic from local pods (none: nothing depends on it)
 * @param firewallAdmitsNode a source range holds the node's address: the LB IPs are admitted as sources too
 */
public record ServicePortPlan(
        ServicePortState state,
        IpFamily family,
        InetAddress clusterIP,
        List<InetAddress> externalIPs,
        List<InetAddress> loadBalancerIPs,
        List<Cidr> sourceRanges,
        Route internal,
        Route external,
        boolean hasEndpoints,
        boolean usesClusterEndpoints,
        boolean usesLocalEndpoints,
        InternalMasquerade internalMasquerade,
        LocalTraffic localTraffic,
        boolean firewallAdmitsNode) {

    /** Where one kind of traffic goes. */
    public enum Route {
        /** Balanced over the cluster endpoints. */
        CLUSTER,
        /** Balanced over this node's endpoints. */
        LOCAL,
        /** No endpoint anywhere: refused (ICMP unreachable / TCP reset), upstream's "has no endpoints". */
        REJECT,
        /** A Local policy and no endpoint on this node: dropped, upstream's "has no local endpoints". */
        DROP;

        /** Served by some endpoint set. */
        public boolean served() {
            return this == CLUSTER || this == LOCAL;
        }
    }

    /** Which internal (ClusterIP) traffic is masqueraded so that replies come back through this node. */
    public enum InternalMasquerade {
        /** None (no local-traffic detector, or nothing to serve). */
        NONE,
        /**
         * Traffic {@link #localTraffic()} does not call local (not from a pod): a client that routes
         * the service range to any node.
         */
        NOT_FROM_PODS,
        /** All of it (--masquerade-all). */
        ALL
    }

    public ServicePortPlan {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(clusterIP, "clusterIP");
        externalIPs = List.copyOf(externalIPs);
        loadBalancerIPs = List.copyOf(loadBalancerIPs);
        sourceRanges = List.copyOf(sourceRanges);
        Objects.requireNonNull(internal, "internal");
        Objects.requireNonNull(external, "external");
        Objects.requireNonNull(internalMasquerade, "internalMasquerade");
        Objects.requireNonNull(localTraffic, "localTraffic");
    }

    public ServicePort port() {
        return state.port();
    }

    public ServicePortName name() {
        return state.name();
    }

    /** Ready (or else serving-and-terminating) endpoints anywhere, topology-filtered: for Cluster policy. */
    public List<Endpoint> clusterEndpoints() {
        return state.selection(family).clusterEndpoints();
    }

    /** This node's endpoints: for Local policy. */
    public List<Endpoint> localEndpoints() {
        return state.selection(family).localEndpoints();
    }

    /** Every endpoint some traffic may reach (iptables: one KUBE-SEP chain each). */
    public List<Endpoint> reachableEndpoints() {
        return state.selection(family).allReachable();
    }

    /**
     * The endpoints of a route: the cluster or local set, none for REJECT and DROP. (IPVS mode
     * keeps upstream's older answer for DROP: the cluster endpoints, kubernetes#97081.)
     */
    public List<Endpoint> endpoints(Route route) {
        return switch (route) {
            case CLUSTER -> clusterEndpoints();
            case LOCAL -> localEndpoints();
            case REJECT, DROP -> List.of();
        };
    }

    /** Reachable from outside the cluster in this family: a NodePort, or an external or load-balancer IP. */
    public boolean externallyAccessible() {
        return port().nodePort() != 0 || !externalIPs.isEmpty() || !loadBalancerIPs.isEmpty();
    }

    /** External traffic has an entry that sends it on (iptables: a KUBE-EXT chain): something serves, and it is reachable. */
    public boolean hasExternalEntry() {
        return hasEndpoints && externallyAccessible();
    }

    /** Load-balancer traffic passes the source-range firewall first. */
    public boolean firewalled() {
        return hasEndpoints && !loadBalancerIPs.isEmpty() && !sourceRanges.isEmpty();
    }

    /** externalTrafficPolicy Cluster: every external packet is masqueraded (endpoints may be on other nodes). */
    public boolean masqueradesExternal() {
        return !port().externalPolicyLocal();
    }

    /**
     * externalTrafficPolicy Local: pods reaching an external address behave as if they went out to
     * the load balancer and back, so no policy applies: traffic {@link #localTraffic()} calls local
     * goes to the cluster endpoints. False without a detector or when nothing uses the cluster
     * endpoints.
     */
    public boolean podShortCircuit() {
        return port().externalPolicyLocal() && usesClusterEndpoints && localTraffic.detects();
    }

    /**
     * externalTrafficPolicy Local: traffic the node sends itself to an external address (its
     * source would be a local address, possibly the LB IP itself) is masqueraded, and goes to the
     * cluster endpoints when any are used.
     */
    public boolean nodeTrafficToCluster() {
        return port().externalPolicyLocal() && usesClusterEndpoints;
    }

    /** ClientIP affinity timeout in seconds; 0 without affinity. */
    public int affinitySeconds() {
        return port().stickyMaxAgeSeconds();
    }

    /**
     * Builds plans for one family with the node's settings. Thread-safe, immutable.
     *
     * @param masqueradeAll --masquerade-all
     * @param localTraffic  the family's local-traffic detector ({@link LocalTrafficDetection#forFamily})
     * @param nodeIP        the node's primary address of the family (for source ranges that hold it); may be null
     */
    public record Planner(IpFamily family, boolean masqueradeAll, LocalTraffic localTraffic, InetAddress nodeIP) {

        public Planner {
            Objects.requireNonNull(family, "family");
            Objects.requireNonNull(localTraffic, "localTraffic");
        }

        /** The plan of {@code state} in this family; empty when the port has no ClusterIP of the family. */
        public Optional<ServicePortPlan> plan(ServicePortState state) {
            ServicePort port = state.port();
            Optional<InetAddress> clusterIP = port.clusterIP(family);
            if (clusterIP.isEmpty()) {
                return Optional.empty(); // this family's backend does not serve the port
            }
            EndpointSelection selection = state.selection(family);
            boolean usesCluster = !selection.clusterEndpoints().isEmpty() && port.usesClusterEndpoints();
            boolean usesLocal = !selection.localEndpoints().isEmpty() && port.usesLocalEndpoints();
            boolean hasEndpoints = selection.hasAnyEndpoints();
            if (hasEndpoints && !usesCluster && !port.internalPolicyLocal()) {
                // Cannot happen with core's selection; if it did, routing Cluster traffic to an
                // empty set would break the mode's rules, so treat the port as having no endpoints.
                hasEndpoints = false;
            }
            Route internal = route(hasEndpoints, port.internalPolicyLocal(), usesLocal);
            Route external = route(hasEndpoints, port.externalPolicyLocal(), usesLocal);
            InternalMasquerade masquerade = !internal.served() ? InternalMasquerade.NONE
                    : masqueradeAll ? InternalMasquerade.ALL
                    : localTraffic.detects() ? InternalMasquerade.NOT_FROM_PODS : InternalMasquerade.NONE;
            List<Cidr> ranges = List.of(); // most ports have none: no list per port and sync
            boolean admitsNode = false;
            List<Cidr> allRanges = port.loadBalancerSourceRanges();
            if (!allRanges.isEmpty()) {
                List<Cidr> ofFamily = new ArrayList<>(allRanges.size());
                for (Cidr c : allRanges) {
                    if (c.family() == family) {
                        ofFamily.add(c);
                        admitsNode |= nodeIP != null && c.contains(nodeIP);
                    }
                }
                ranges = List.copyOf(ofFamily);
            }
            return Optional.of(new ServicePortPlan(state, family, clusterIP.get(), ofFamily(port.externalIPs()),
                    ofFamily(port.loadBalancerIPs()), ranges, internal, external, hasEndpoints, usesCluster, usesLocal,
                    masquerade, localTraffic, admitsNode));
        }

        private static Route route(boolean hasEndpoints, boolean policyLocal, boolean usesLocal) {
            if (!hasEndpoints) {
                return Route.REJECT;
            }
            if (!policyLocal) {
                return Route.CLUSTER;
            }
            return usesLocal ? Route.LOCAL : Route.DROP;
        }

        /** The addresses of this family; {@code all} itself (immutable, from ServicePort) when no other family is in it. */
        private List<InetAddress> ofFamily(List<InetAddress> all) {
            int matching = 0;
            for (InetAddress a : all) {
                if (family.contains(a)) {
                    matching++;
                }
            }
            if (matching == all.size()) {
                return all;
            }
            List<InetAddress> out = new ArrayList<>(matching);
            for (InetAddress a : all) {
                if (family.contains(a)) {
                    out.add(a);
                }
            }
            return List.copyOf(out);
        }
    }
}
