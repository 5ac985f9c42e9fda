package dev.ferry.proxy.conntrack;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * This host's addresses, read when asked, as the NodePort part of the stale-flow rule needs
 * them: the kernel's "local" destinations (iptables addrtype LOCAL), which also include all of
 * 127.0.0.0/8 and ::1. Compared by address bytes.
 */
final class HostAddresses {

    private HostAddresses() {
    }

    /** The current addresses of this process's network namespace; every address when they cannot be read. */
    static Predicate<InetAddress> current() {
        Set<InetAddress> found = new HashSet<>();
        try {
            Enumeration<NetworkInterface> links = NetworkInterface.getNetworkInterfaces();
            while (links != null && links.hasMoreElements()) {
                Enumeration<InetAddress> addresses = links.nextElement().getInetAddresses();
                while (addresses.hasMoreElements()) {
                    found.add(withoutScope(addresses.nextElement()));
                }
            }
        } catch (SocketException e) {
            return a -> true; // upstream's rule: the port alone decides
        }
        return of(found);
    }

    static Predicate<InetAddress> of(Set<InetAddress> addresses) {
        Set<InetAddress> set = new HashSet<>();
        addresses.forEach(a -> set.add(withoutScope(a)));
        return a -> a.isLoopbackAddress() || set.contains(withoutScope(a));
    }

    private static InetAddress withoutScope(InetAddress a) {
        try {
            return InetAddress.getByAddress(a.getAddress());
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
