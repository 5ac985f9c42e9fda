package dev.ferry.mode;

import dev.ferry.core.IpFamily;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.NetworkSettings;

import java.io.PrintStream;
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
 * @param dryRunOutput        for --dry-run, where a mode prints what it would program; null when the
 *                            node is programmed (then {@code commands} runs real programs too)
 */
public record ModeContext(Set<IpFamily> families, NetworkSettings network, CommandRunner commands,
                          Predicate<String> leftovers, Duration tcpEstablishedIdle, PrintStream dryRunOutput) {

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

    /** A context that programs the node (no dry run). */
    public ModeContext(Set<IpFamily> families, NetworkSettings network, CommandRunner commands,
                       Predicate<String> leftovers, Duration tcpEstablishedIdle) {
        this(families, network, commands, leftovers, tcpEstablishedIdle, null);
    }

    /** Whether this run changes the node (false for --dry-run). */
    public boolean appliesChanges() {
        return dryRunOutput == null && commands.appliesChanges();
    }
}
