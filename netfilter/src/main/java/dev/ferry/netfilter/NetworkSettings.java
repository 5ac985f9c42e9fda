package dev.ferry.netfilter;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.ServicePortPlan;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The node's network settings every mode programs with (flags --iptables-masquerade-bit,
 * --masquerade-all, --cluster-cidr, --nodeport-addresses).
 *
 * @param masqueradeBit     bit of the packet mark meaning "masquerade this" (0..31, default 14)
 * @param masqueradeAll     masquerade every packet sent to a ClusterIP
 * @param clusterCidrs      pod network(s): traffic from outside them to a ClusterIP is masqueraded;
 *                          empty means no local-traffic detector
 * @param nodePortAddresses --nodeport-addresses entries as given (CIDRs or "primary"); empty = all
 */
public record NetworkSettings(int masqueradeBit, boolean masqueradeAll, List<Cidr> clusterCidrs,
                              List<String> nodePortAddresses) {

    public NetworkSettings {
        if (masqueradeBit < 0 || masqueradeBit > 31) {
            throw new IllegalArgumentException("masquerade bit " + masqueradeBit + " out of range 0..31");
        }
        clusterCidrs = List.copyOf(Objects.requireNonNull(clusterCidrs, "clusterCidrs"));
        nodePortAddresses = List.copyOf(Objects.requireNonNull(nodePortAddresses, "nodePortAddresses"));
    }

    /** Upstream's defaults: bit 14, no masquerade-all, no cluster CIDR, NodePorts on every address. */
    public static NetworkSettings defaults() {
        return new NetworkSettings(14, false, List.of(), List.of());
    }

    public NetworkSettings withClusterCidrs(List<Cidr> cidrs) {
        return new NetworkSettings(masqueradeBit, masqueradeAll, cidrs, nodePortAddresses);
    }

    public NetworkSettings withMasqueradeAll(boolean all) {
        return new NetworkSettings(masqueradeBit, all, clusterCidrs, nodePortAddresses);
    }

    public NetworkSettings withMasqueradeBit(int bit) {
        return new NetworkSettings(bit, masqueradeAll, clusterCidrs, nodePortAddresses);
    }

    public NetworkSettings withNodePortAddresses(List<String> entries) {
        return new NetworkSettings(masqueradeBit, masqueradeAll, clusterCidrs, entries);
    }

    /** The mark value, e.g. "0x4000" for bit 14. */
    public String masqueradeMark() {
        return "0x" + Integer.toHexString(1 << masqueradeBit);
    }

    /**
     * The service-port planner of a family on this node: masquerade-all, the family's pod network,
     * and the node's primary address of the family (for source ranges that hold it).
     */
    public ServicePortPlan.Planner planner(IpFamily family, NodeInfo node) {
        InetAddress nodeIP = node == null ? null : node.primaryAddress(family).orElse(null);
        return new ServicePortPlan.Planner(family, masqueradeAll, localCidr(family), nodeIP);
    }

    /** The local-traffic detector of a family: its first cluster CIDR (upstream uses one per family). */
    public Optional<Cidr> localCidr(IpFamily family) {
        for (Cidr c : clusterCidrs) {
            if (c.family() == family) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
