package dev.ferry.mode.inspect;

import dev.ferry.core.IpFamily;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * What the inspection tools read from the node they run on, whatever the mode: its iptables
 * rules, links, addresses and routes. The proxy reads the real kernel; unit tests pass a
 * fake. A mode reads its own kernel objects (the IPVS table and ipsets, an nf_tables table) itself. Every
 * method reads afresh and fails with an IOException that says what could not be read.
 */
public interface LiveNode {

    /** {@code iptables-save} (IPv4) or {@code ip6tables-save} (IPv6) output, all tables. */
    String iptablesSave(IpFamily family) throws IOException;

    /** Whether a link of this name exists (e.g. kube-ipvs0). */
    boolean hasLink(String name);

    /** The node's own addresses (loopback included), as addrtype LOCAL sees them. */
    List<InetAddress> localAddresses() throws IOException;

    /** The interface the node would route {@code address} through, if it can tell. */
    Optional<String> routeInterface(InetAddress address);
}
