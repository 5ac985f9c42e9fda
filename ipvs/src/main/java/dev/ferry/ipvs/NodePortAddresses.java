package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.iptables.IptablesConfig;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The node addresses that get NodePort virtual servers, as upstream picks them for IPVS mode: of the node addresses
 * of the family (loopback and IPv6 link-local excluded), those --nodeport-addresses serves (read by the iptables
 * mode's {@link dev.ferry.iptables.NodePortAddresses}: all of them without a CIDR of the family or with a /0). The same choice as
 * {@link dev.ferry.ipvs.rules.IpsetWriter}'s KUBE-NODE-PORT entries, so the sets and the table agree.
 */
final class NodePortAddresses {

    private NodePortAddresses() {
    }

    static List<InetAddress> select(IpFamily family, IptablesConfig config, ProxySnapshot snapshot,
                                    List<InetAddress> nodeAddresses) {
        dev.ferry.iptables.NodePortAddresses serving =
                dev.ferry.iptables.NodePortAddresses.of(family, config.nodePortAddresses(), snapshot.node());
        Set<InetAddress> out = new LinkedHashSet<>();
        for (InetAddress a : nodeAddresses) {
            if (family.contains(a) && !a.isLoopbackAddress() && !(a instanceof Inet6Address && a.isLinkLocalAddress())
                    && serving.serves(a)) {
                out.add(a);
            }
        }
        return List.copyOf(out);
    }
}
