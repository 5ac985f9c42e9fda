package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.iptables.IptablesConfig;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The node addresses that get NodePort virtual servers, as upstream picks them for IPVS mode: every node address
 * of the family (loopback and IPv6 link-local excluded) when --nodeport-addresses names no CIDR of the family (or a
 * /0), else those inside its CIDRs, "primary" meaning the node's primary address. The same choice as
 * {@link dev.ferry.ipvs.rules.IpsetWriter}'s KUBE-NODE-PORT entries, so the sets and the table agree.
 */
final class NodePortAddresses {

    private NodePortAddresses() {
    }

    static List<InetAddress> select(IpFamily family, IptablesConfig config, ProxySnapshot snapshot,
                                    List<InetAddress> nodeAddresses) {
        List<Cidr> cidrs = new ArrayList<>();
        for (String entry : config.nodePortAddresses()) {
            if (entry.equals("primary")) {
                if (snapshot.node() != null) {
                    snapshot.node().primaryAddress(family).ifPresent(ip ->
                            cidrs.add(new Cidr(ip, family == IpFamily.IPV4 ? 32 : 128)));
                }
                continue;
            }
            try {
                Cidr c = Cidr.parse(entry.strip());
                if (c.family() == family) {
                    cidrs.add(c);
                }
            } catch (IllegalArgumentException e) {
                // rejected when the flag is parsed
            }
        }
        boolean all = cidrs.isEmpty() || cidrs.stream().anyMatch(c -> c.prefixLength() == 0);
        Set<InetAddress> out = new LinkedHashSet<>();
        for (InetAddress a : nodeAddresses) {
            if (!family.contains(a) || a.isLoopbackAddress() || (a instanceof Inet6Address && a.isLinkLocalAddress())) {
                continue;
            }
            if (all || cidrs.stream().anyMatch(c -> c.contains(a))) {
                out.add(a);
            }
        }
        return List.copyOf(out);
    }
}
