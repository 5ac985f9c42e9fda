package dev.ferry.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The node's --detect-local-mode with what it needs, and how it turns into a {@link LocalTraffic}
 * per IP family as upstream's GetLocalTrafficDetectors decides:
 *
 * <ul>
 *   <li>{@link Mode#CLUSTER_CIDR} (the default): traffic from the family's first --cluster-cidr;
 *       none without one;</li>
 *   <li>{@link Mode#NODE_CIDR}: traffic from the family's first CIDR of the Node's spec.podCIDRs;
 *       none while the Node has none of the family (upstream waits for them at start);</li>
 *   <li>{@link Mode#BRIDGE_INTERFACE}: traffic arriving on --pod-bridge-interface, in both families;</li>
 *   <li>{@link Mode#INTERFACE_NAME_PREFIX}: traffic arriving on an interface whose name starts
 *       with --pod-interface-name-prefix, in both families.</li>
 * </ul>
 *
 * <p>Immutable. Build one with the factory of its mode.
 *
 * @param mode          which traffic is local
 * @param clusterCidrs  --cluster-cidr (ClusterCIDR mode; empty in the others)
 * @param interfaceName the bridge or the prefix (BridgeInterface, InterfaceNamePrefix; "" in the others)
 */
public record LocalTrafficDetection(Mode mode, List<Cidr> clusterCidrs, String interfaceName) {

    /** Upstream's LocalMode values. */
    public enum Mode {
        CLUSTER_CIDR("ClusterCIDR"),
        NODE_CIDR("NodeCIDR"),
        BRIDGE_INTERFACE("BridgeInterface"),
        INTERFACE_NAME_PREFIX("InterfaceNamePrefix");

        private final String upstreamName;

        Mode(String upstreamName) {
            this.upstreamName = upstreamName;
        }

        /** The value as upstream's flag and config field spell it, e.g. "ClusterCIDR". */
        public String upstreamName() {
            return upstreamName;
        }

        /** The mode spelled {@code name} exactly (upstream compares case-sensitively); "" is the default, ClusterCIDR. */
        public static Optional<Mode> named(String name) {
            if (name.isEmpty()) {
                return Optional.of(CLUSTER_CIDR);
            }
            for (Mode m : values()) {
                if (m.upstreamName.equals(name)) {
                    return Optional.of(m);
                }
            }
            return Optional.empty();
        }

        @Override
        public String toString() {
            return upstreamName;
        }
    }

    public LocalTrafficDetection {
        Objects.requireNonNull(mode, "mode");
        clusterCidrs = List.copyOf(clusterCidrs);
        Objects.requireNonNull(interfaceName, "interfaceName");
        if (mode != Mode.CLUSTER_CIDR && !clusterCidrs.isEmpty()) {
            throw new IllegalArgumentException(mode + " takes no cluster CIDRs");
        }
        switch (mode) {
            case BRIDGE_INTERFACE -> new LocalTraffic.InInterface(interfaceName); // checks the name
            case INTERFACE_NAME_PREFIX -> new LocalTraffic.InInterfacePrefix(interfaceName);
            default -> {
                if (!interfaceName.isEmpty()) {
                    throw new IllegalArgumentException(mode + " takes no interface name");
                }
            }
        }
    }

    /** ClusterCIDR mode with these CIDRs (at most one per family is used: the first). */
    public static LocalTrafficDetection clusterCidr(List<Cidr> clusterCidrs) {
        return new LocalTrafficDetection(Mode.CLUSTER_CIDR, clusterCidrs, "");
    }

    /** NodeCIDR mode: the Node's spec.podCIDRs. */
    public static LocalTrafficDetection nodeCidr() {
        return new LocalTrafficDetection(Mode.NODE_CIDR, List.of(), "");
    }

    /** BridgeInterface mode with this bridge. */
    public static LocalTrafficDetection bridgeInterface(String bridge) {
        return new LocalTrafficDetection(Mode.BRIDGE_INTERFACE, List.of(), bridge);
    }

    /** InterfaceNamePrefix mode with this prefix. */
    public static LocalTrafficDetection interfaceNamePrefix(String prefix) {
        return new LocalTrafficDetection(Mode.INTERFACE_NAME_PREFIX, List.of(), prefix);
    }

    /** Whether the detection depends on the Node object (NodeCIDR). */
    public boolean needsNodePodCidrs() {
        return mode == Mode.NODE_CIDR;
    }

    /**
     * The detector of {@code family} on this node.
     *
     * @param node this node as last seen; may be null (not known yet)
     */
    public LocalTraffic forFamily(IpFamily family, NodeInfo node) {
        Objects.requireNonNull(family, "family");
        return switch (mode) {
            case CLUSTER_CIDR -> firstOf(family, clusterCidrs);
            case NODE_CIDR -> node == null ? LocalTraffic.NONE : firstOf(family, node.podCidrs());
            case BRIDGE_INTERFACE -> new LocalTraffic.InInterface(interfaceName);
            case INTERFACE_NAME_PREFIX -> new LocalTraffic.InInterfacePrefix(interfaceName);
        };
    }

    private static LocalTraffic firstOf(IpFamily family, List<Cidr> cidrs) {
        for (Cidr c : cidrs) {
            if (c.family() == family) {
                return new LocalTraffic.SourceCidr(c);
            }
        }
        return LocalTraffic.NONE;
    }

    /** For logs: "ClusterCIDR 10.244.0.0/16", "BridgeInterface cbr0", "NodeCIDR". */
    @Override
    public String toString() {
        return switch (mode) {
            case CLUSTER_CIDR -> mode + (clusterCidrs.isEmpty() ? " (no cluster CIDR)"
                    : " " + clusterCidrs.stream().map(Cidr::toString).collect(Collectors.joining(",")));
            case NODE_CIDR -> mode.toString();
            case BRIDGE_INTERFACE, INTERFACE_NAME_PREFIX -> mode + " " + interfaceName;
        };
    }
}
