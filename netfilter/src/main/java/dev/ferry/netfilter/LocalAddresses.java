package dev.ferry.netfilter;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The addresses of this node's interfaces, for --nodeport-addresses CIDRs (upstream matches
 * them against every interface address). Injected so tests can fake the machine.
 */
@FunctionalInterface
public interface LocalAddresses {

    /** Every address of every interface, loopback included. */
    List<InetAddress> addresses() throws IOException;

    /**
     * The interfaces the JVM sees; a JVM runs in one network namespace, so these are that
     * namespace's addresses.
     */
    static LocalAddresses ofThisMachine() {
        return () -> {
            List<InetAddress> out = new ArrayList<>();
            try {
                for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                        // Drop the "%scope" of link-local IPv6 addresses: rules take plain addresses.
                        out.add(InetAddress.getByAddress(a.getAddress()));
                    }
                }
            } catch (SocketException e) {
                throw new IOException("cannot list network interfaces: " + e.getMessage(), e);
            }
            return out;
        };
    }

    /** Fixed addresses, for tests and for a proxy told its addresses. */
    static LocalAddresses of(List<InetAddress> addresses) {
        List<InetAddress> copy = List.copyOf(addresses);
        return () -> copy;
    }
}
