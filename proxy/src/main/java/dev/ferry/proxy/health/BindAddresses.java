package dev.ferry.proxy.health;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.NodeInfo;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Where a health check node port listens, as upstream decides it from --nodeport-addresses:
 * with none given, on every address (one wildcard socket, IPv4 and IPv6); else on each local
 * address inside one of the CIDRs, plus the node's primary addresses for "primary". When no local
 * address matches, upstream listens nowhere; so do we (and say so).
 */
final class BindAddresses {

    /** {@code wildcard}, or the exact {@code addresses} to bind (possibly none). */
    record Plan(boolean wildcard, List<InetAddress> addresses) {
        Plan {
            addresses = List.copyOf(addresses);
        }

        static final Plan WILDCARD = new Plan(true, List.of());
    }

    private final List<String> nodePortAddresses;
    private final Supplier<List<InetAddress>> localAddresses;

    /**
     * @param nodePortAddresses --nodeport-addresses as given: CIDRs and "primary"; empty = all
     * @param localAddresses    this host's interface addresses (read at each call)
     */
    BindAddresses(List<String> nodePortAddresses, Supplier<List<InetAddress>> localAddresses) {
        this.nodePortAddresses = List.copyOf(nodePortAddresses);
        this.localAddresses = Objects.requireNonNull(localAddresses, "localAddresses");
        for (String entry : this.nodePortAddresses) {
            if (!entry.equals("primary")) {
                Cidr.parse(entry); // fail fast on a bad entry; the flag parser checked it already
            }
        }
    }

    static BindAddresses system(List<String> nodePortAddresses) {
        return new BindAddresses(nodePortAddresses, BindAddresses::interfaceAddresses);
    }

    Plan resolve(NodeInfo node) {
        if (nodePortAddresses.isEmpty()) {
            return Plan.WILDCARD;
        }
        Set<InetAddress> out = new LinkedHashSet<>();
        List<InetAddress> local = localAddresses.get();
        for (String entry : nodePortAddresses) {
            if (entry.equals("primary")) {
                if (node != null) {
                    node.primaryAddress(IpFamily.IPV4).ifPresent(out::add);
                    node.primaryAddress(IpFamily.IPV6).ifPresent(out::add);
                }
            } else {
                Cidr cidr = Cidr.parse(entry);
                local.stream().filter(cidr::contains).forEach(out::add);
            }
        }
        return new Plan(false, new ArrayList<>(out));
    }

    @Override
    public String toString() {
        return nodePortAddresses.isEmpty() ? "all addresses" : "--nodeport-addresses " + String.join(",", nodePortAddresses);
    }

    /**
     * Not {@code LocalAddresses.ofThisMachine()}: a socket binds only on links that are up, and a
     * link-local IPv6 address needs its scope, which the rule side strips.
     */
    private static List<InetAddress> interfaceAddresses() {
        List<InetAddress> out = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (nic.isUp()) {
                    out.addAll(Collections.list(nic.getInetAddresses()));
                }
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot list network interfaces: " + e.getMessage(), e);
        }
        return out;
    }
}
