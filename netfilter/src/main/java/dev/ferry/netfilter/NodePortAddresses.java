package dev.ferry.netfilter;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.NodeInfo;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * --nodeport-addresses for one IP family, as upstream reads it: the family's CIDRs ("primary"
 * stands for the node's primary address of the family as a /32 or /128); no CIDR of the
 * family, or a zero-length one, means every local address.
 */
public final class NodePortAddresses {

    public static final String PRIMARY = "primary";

    private static final Cidr LOOPBACK_V4 = Cidr.parse("127.0.0.0/8");

    private final List<Cidr> cidrs;
    private final boolean matchAll;
    private final boolean containsIPv4Loopback;

    private NodePortAddresses(List<Cidr> cidrs, boolean matchAll, boolean containsIPv4Loopback) {
        this.cidrs = cidrs;
        this.matchAll = matchAll;
        this.containsIPv4Loopback = containsIPv4Loopback;
    }

    /** {@code entries}: the --nodeport-addresses values; {@code node}: for "primary" (may be null). */
    public static NodePortAddresses of(IpFamily family, List<String> entries, NodeInfo node) {
        List<Cidr> cidrs = new ArrayList<>();
        for (String entry : entries) {
            if (entry.equals(PRIMARY)) {
                if (node != null) {
                    node.primaryAddress(family).filter(ip -> !ip.isLoopbackAddress()).ifPresent(ip ->
                            cidrs.add(new Cidr(ip, family.bits())));
                }
                continue;
            }
            try {
                Cidr cidr = Cidr.parse(entry.strip());
                if (cidr.family() == family) {
                    cidrs.add(cidr);
                }
            } catch (IllegalArgumentException e) {
                // Rejected when the flag is parsed; ignored here so a sync never fails on it.
            }
        }
        boolean all = cidrs.isEmpty() || cidrs.stream().anyMatch(c -> c.prefixLength() == 0);
        boolean loopback = family == IpFamily.IPV4 && (all || cidrs.stream().anyMatch(c ->
                c.contains(LOOPBACK_V4.network()) || c.network().isLoopbackAddress()));
        return new NodePortAddresses(List.copyOf(cidrs), all, loopback);
    }

    /** NodePorts answer on every local address of the family. */
    public boolean matchAll() {
        return matchAll;
    }

    /** 127.0.0.0/8 may receive NodePort traffic (always false for IPv6). */
    public boolean containsIPv4Loopback() {
        return containsIPv4Loopback;
    }

    /** Whether NodePorts answer on {@code ip}: every address when {@link #matchAll()}, else those in the CIDRs. */
    public boolean serves(InetAddress ip) {
        return matchAll || cidrs.stream().anyMatch(c -> c.family() == IpFamily.of(ip) && c.contains(ip));
    }

    /**
     * The node addresses that get NodePort virtual servers, as upstream picks them for IPVS mode: of the node
     * addresses of the family (loopback and IPv6 link-local excluded), those this setting serves. The IPVS mode's
     * KUBE-NODE-PORT ipset entries make the same choice, so the sets and the IPVS table agree.
     */
    public List<InetAddress> servedAmong(IpFamily family, List<InetAddress> nodeAddresses) {
        Set<InetAddress> out = new LinkedHashSet<>();
        for (InetAddress a : nodeAddresses) {
            if (family.contains(a) && !a.isLoopbackAddress() && !(a instanceof Inet6Address && a.isLinkLocalAddress())
                    && serves(a)) {
                out.add(a);
            }
        }
        return List.copyOf(out);
    }

    /** The node's addresses inside the CIDRs, each once, in a stable order. */
    public List<InetAddress> nodeIPs(Collection<InetAddress> localAddresses) {
        TreeMap<String, InetAddress> matched = new TreeMap<>();
        for (InetAddress ip : localAddresses) {
            for (Cidr cidr : cidrs) {
                if (cidr.family() == IpFamily.of(ip) && cidr.contains(ip)) {
                    matched.put(IpAddresses.format(ip), ip);
                    break;
                }
            }
        }
        return List.copyOf(matched.values());
    }
}
