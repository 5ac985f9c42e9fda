package dev.ferry.iptables;

import dev.ferry.core.Cidr;

import java.util.List;
import java.util.Objects;

/**
 * Settings of iptables mode that shape the rules (flags --iptables-masquerade-bit,
 * --masquerade-all, --cluster-cidr, --iptables-localhost-nodeports, --nodeport-addresses).
 *
 * @param masqueradeBit      bit of the packet mark meaning "masquerade this" (0..31, default 14)
 * @param masqueradeAll      masquerade every packet sent to a ClusterIP
 * @param clusterCidrs       pod network(s): traffic from outside them to a ClusterIP is masqueraded;
 *                           empty means no local-traffic detector
 * @param localhostNodePorts NodePorts answer on 127.0.0.1 (IPv4 only)
 * @param nodePortAddresses  --nodeport-addresses entries as given (CIDRs or "primary"); empty = all
 */
public record IptablesConfig(
        int masqueradeBit,
        boolean masqueradeAll,
        List<Cidr> clusterCidrs,
        boolean localhostNodePorts,
        List<String> nodePortAddresses) {

    public IptablesConfig {
        if (masqueradeBit < 0 || masqueradeBit > 31) {
            throw new IllegalArgumentException("masquerade bit " + masqueradeBit + " out of range 0..31");
        }
        clusterCidrs = List.copyOf(Objects.requireNonNull(clusterCidrs, "clusterCidrs"));
        nodePortAddresses = List.copyOf(Objects.requireNonNull(nodePortAddresses, "nodePortAddresses"));
    }

    /** Upstream's defaults: bit 14, no masquerade-all, no cluster CIDR, localhost NodePorts on. */
    public static IptablesConfig defaults() {
        return new IptablesConfig(14, false, List.of(), true, List.of());
    }

    public IptablesConfig withClusterCidrs(List<Cidr> cidrs) {
        return new IptablesConfig(masqueradeBit, masqueradeAll, cidrs, localhostNodePorts, nodePortAddresses);
    }

    public IptablesConfig withMasqueradeAll(boolean all) {
        return new IptablesConfig(masqueradeBit, all, clusterCidrs, localhostNodePorts, nodePortAddresses);
    }

    public IptablesConfig withMasqueradeBit(int bit) {
        return new IptablesConfig(bit, masqueradeAll, clusterCidrs, localhostNodePorts, nodePortAddresses);
    }

    /** The mark value, e.g. "0x4000" for bit 14. */
    public String masqueradeMark() {
        return "0x" + Integer.toHexString(1 << masqueradeBit);
    }
}
