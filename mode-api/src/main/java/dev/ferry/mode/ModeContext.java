package dev.ferry.mode;

import dev.ferry.core.IpFamily;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.NetworkSettings;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What the daemon gives a mode to start or clean up with.
 *
 * @param families            the IP families of the cluster (--cluster-cidr; IPv4 without one)
 * @param network             the node's network settings every mode shares
 * @param commands            runs iptables, ipset, sysctl...; a dry-run runner prints restore input instead
 * @param leftovers           other modes' iptables chains, removed when this mode starts
 * @param tcpEstablishedIdle  --conntrack-tcp-timeout-established: idle timeout of an established TCP connection
 *                            (zero: none)
 */
public record ModeContext(Set<IpFamily> families, NetworkSettings network, CommandRunner commands,
                          Predicate<String> leftovers, Duration tcpEstablishedIdle) {

    public ModeContext {
        families = Set.copyOf(families);
        if (families.isEmpty()) {
            throw new IllegalArgumentException("no IP family");
        }
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(commands, "commands");
        Objects.requireNonNull(leftovers, "leftovers");
        Objects.requireNonNull(tcpEstablishedIdle, "tcpEstablishedIdle");
    }

    /** Whether this run changes the node (false for --dry-run). */
    public boolean appliesChanges() {
        return commands.appliesChanges();
    }
}
