package dev.ferry.proxy.conntrack;

import dev.ferry.netfilter.LocalAddresses;

import java.io.IOException;
import java.net.InetAddress;
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
        try {
            return of(new HashSet<>(LocalAddresses.ofThisMachine().addresses()));
        } catch (IOException e) {
            return a -> true; // upstream's rule: the port alone decides
        }
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
