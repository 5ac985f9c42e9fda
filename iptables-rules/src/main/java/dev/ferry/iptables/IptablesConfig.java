package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.netfilter.NetworkSettings;

import java.util.List;
import java.util.Objects;

/**
 * The settings of iptables mode: the node's network settings, and whether NodePorts answer on
 * 127.0.0.1 (--iptables-localhost-nodeports, IPv4 only), which only this mode offers.
 */
public record IptablesConfig(NetworkSettings network, boolean localhostNodePorts) {

    public IptablesConfig {
        Objects.requireNonNull(network, "network");
    }

    /** Field by field, as the flags give them. */
    public IptablesConfig(int masqueradeBit, boolean masqueradeAll, List<Cidr> clusterCidrs, boolean localhostNodePorts,
                          List<String> nodePortAddresses) {
        this(new NetworkSettings(masqueradeBit, masqueradeAll, clusterCidrs, nodePortAddresses), localhostNodePorts);
    }

    /** Upstream's defaults: {@link NetworkSettings#defaults()}, localhost NodePorts on. */
    public static IptablesConfig defaults() {
        return new IptablesConfig(NetworkSettings.defaults(), true);
    }

    public IptablesConfig withClusterCidrs(List<Cidr> cidrs) {
        return new IptablesConfig(network.withClusterCidrs(cidrs), localhostNodePorts);
    }

    public IptablesConfig withMasqueradeAll(boolean all) {
        return new IptablesConfig(network.withMasqueradeAll(all), localhostNodePorts);
    }

    public IptablesConfig withMasqueradeBit(int bit) {
        return new IptablesConfig(network.withMasqueradeBit(bit), localhostNodePorts);
    }
}
