package dev.ferry.core;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * This node: its name, labels (for the topology zone), addresses from its Node status
 * (InternalIP first, then ExternalIP, in the order the Node lists them) and the pod networks
 * allocated to it (spec.podCIDRs, for --detect-local-mode=NodeCIDR).
 */
public record NodeInfo(String name, Map<String, String> labels, List<InetAddress> addresses, List<Cidr> podCidrs) {

    public static final String ZONE_LABEL = "topology.kubernetes.io/zone";

    public NodeInfo {
        Objects.requireNonNull(name, "name");
        labels = Map.copyOf(labels);
        addresses = List.copyOf(addresses);
        podCidrs = List.copyOf(podCidrs);
    }

    public NodeInfo(String name, Map<String, String> labels, List<InetAddress> addresses) {
        this(name, labels, addresses, List.of());
    }

    public NodeInfo(String name, Map<String, String> labels) {
        this(name, labels, List.of());
    }

    /** The zone label, "" when the node has none. */
    public String zone() {
        return labels.getOrDefault(ZONE_LABEL, "");
    }

    /**
     * This node with {@code primary} as the primary address of its family (upstream's --bind-address
     * override): listed first, the Node's other addresses after it.
     */
    public NodeInfo withPrimary(InetAddress primary) {
        List<InetAddress> all = new java.util.ArrayList<>();
        all.add(Objects.requireNonNull(primary, "primary"));
        addresses.stream().filter(a -> !a.equals(primary)).forEach(all::add);
        return new NodeInfo(name, labels, all, podCidrs);
    }

    /** The node's primary address of a family, as upstream picks it: the first listed. */
    public Optional<InetAddress> primaryAddress(IpFamily family) {
        return addresses.stream().filter(family::contains).findFirst();
    }
}
