package dev.ferry.proxy.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the inspection tools read from the node they run on: the kernel's rules, IPVS table,
 * conntrack table and addresses. {@link KernelNode} reads the real kernel; unit tests pass a fake.
 * Every method reads afresh (nothing is cached) and fails with an IOException that says what
 * could not be read.
 */
interface LiveNode {

    /** {@code iptables-save} (IPv4) or {@code ip6tables-save} (IPv6) output, all tables. */
    String iptablesSave(IpFamily family) throws IOException;

    /** Every IPVS virtual server with its real servers, in the kernel's order. */
    Map<VirtualServer, List<RealServer>> ipvsTable() throws IOException;

    /** {@code ipset save} output (every set; empty when there is none). */
    String ipsetSave() throws IOException;

    /** Whether an IPVS table can be read at all (the ip_vs module is loaded). */
    boolean hasIpvs();

    /** Whether a link of this name exists (e.g. kube-ipvs0). */
    boolean hasLink(String name);

    /** Every conntrack flow of a family. */
    List<ConntrackFlow> conntrack(IpFamily family) throws IOException;

    /** The node's own addresses (loopback included), as addrtype LOCAL sees them. */
    List<InetAddress> localAddresses() throws IOException;

    /** The interface the node would route {@code address} through, if it can tell. */
    Optional<String> routeInterface(InetAddress address);

    /** The running proxy's answer on http://127.0.0.1:10249/proxyMode, if one answers. */
    Optional<String> proxyModeEndpoint();
}
