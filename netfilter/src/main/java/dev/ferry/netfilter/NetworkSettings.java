package dev.ferry.netfilter;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTraffic;
import dev.ferry.core.LocalTrafficDetection;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.ServicePortPlan;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * The node's network settings every mode programs with (flags --iptables-masquerade-bit,
 * --masquerade-all, --detect-local-mode with --cluster-cidr and its other companions,
 * --nodeport-addresses).
 *
 * @param masqueradeBit     bit of the packet mark meaning "masquerade this" (0..31, default 14)
 * @param masqueradeAll     masquerade every packet sent to a ClusterIP
 * @param localTraffic      how traffic from this node's pods is told from other traffic: traffic to
 *                          a ClusterIP that is not from them is masqueraded
 * @param nodePortAddresses --nodeport-addresses entries as given (CIDRs or "primary"); empty = all
 */
public record NetworkSettings(int masqueradeBit, boolean masqueradeAll, LocalTrafficDetection localTraffic,
                              List<String> nodePortAddresses) {

    public NetworkSettings {
        if (masqueradeBit < 0 || masqueradeBit > 31) {
            throw new IllegalArgumentException("masquerade bit " + masqueradeBit + " out of range 0..31");
        }
        Objects.requireNonNull(localTraffic, "localTraffic");
        nodePortAddresses = List.copyOf(Objects.requireNonNull(nodePortAddresses, "nodePortAddresses"));
    }

    /** With ClusterCIDR detection (upstream's default mode) by {@code clusterCidrs}. */
    public NetworkSettings(int masqueradeBit, boolean masqueradeAll, List<Cidr> clusterCidrs,
                           List<String> nodePortAddresses) {
        this(masqueradeBit, masqueradeAll, LocalTrafficDetection.clusterCidr(clusterCidrs), nodePortAddresses);
    }

    /** Upstream's defaults: bit 14, no masquerade-all, ClusterCIDR detection without a CIDR, NodePorts on every address. */
    public static NetworkSettings defaults() {
        return new NetworkSettings(14, false, List.of(), List.of());
    }

    /** ClusterCIDR detection by {@code cidrs}. */
    public NetworkSettings withClusterCidrs(List<Cidr> cidrs) {
        return withLocalTraffic(LocalTrafficDetection.clusterCidr(cidrs));
    }

    public NetworkSettings withLocalTraffic(LocalTrafficDetection detection) {
        return new NetworkSettings(masqueradeBit, masqueradeAll, detection, nodePortAddresses);
    }

    public NetworkSettings withMasqueradeAll(boolean all) {
        return new NetworkSettings(masqueradeBit, all, localTraffic, nodePortAddresses);
    }

    public NetworkSettings withMasqueradeBit(int bit) {
        return new NetworkSettings(bit, masqueradeAll, localTraffic, nodePortAddresses);
    }

    public NetworkSettings withNodePortAddresses(List<String> entries) {
        return new NetworkSettings(masqueradeBit, masqueradeAll, localTraffic, entries);
    }

    /** The mark value, e.g. "0x4000" for bit 14. */
    public String masqueradeMark() {
        return "0x" + Integer.toHexString(1 << masqueradeBit);
    }

    /**
     * The service-port planner of a family on this node: masquerade-all, the family's local-traffic
     * detector, and the node's primary address of the family (for source ranges that hold it).
     *
     * @param node this node as last seen (its podCIDRs for NodeCIDR detection); may be null
     */
    public ServicePortPlan.Planner planner(IpFamily family, NodeInfo node) {
        InetAddress nodeIP = node == null ? null : node.primaryAddress(family).orElse(null);
        return new ServicePortPlan.Planner(family, masqueradeAll, localTraffic(family, node), nodeIP);
    }

    /** The local-traffic detector of a family on this node ({@link LocalTrafficDetection#forFamily}). */
    public LocalTraffic localTraffic(IpFamily family, NodeInfo node) {
        return localTraffic.forFamily(family, node);
    }
}
