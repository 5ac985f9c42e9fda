package dev.ferry.bench;

import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.CommandRunners;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * A network namespace of our own ("fy-bench-…"), so the benchmark's 200,000 rules never touch
 * the host's tables. {@link #close()} deletes it (also from a shutdown hook on Ctrl-C).
 */
final class NetNs implements AutoCloseable {

    /** A 10k-Service restore can take many seconds on a slow machine; allow plenty. */
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    final String name;
    final CommandRunner runner;
    private final Thread hook;
    private boolean closed;

    private NetNs(String name, boolean legacy) {
        this.name = name;
        CommandRunner inside = CommandRunners.prefixed(List.of("ip", "netns", "exec", name),
                CommandRunners.process(TIMEOUT));
        this.runner = legacy ? LegacyIptables.wrap(inside) : inside;
        this.hook = new Thread(this::deleteQuietly, "netns-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** @param legacy run iptables-legacy* wherever the backend runs iptables* (nf_tables otherwise) */
    static NetNs create(boolean legacy) throws IOException {
        String name = "fy-bench-" + UUID.randomUUID().toString().substring(0, 8);
        CommandRunner.Result r = CommandRunners.process().run(List.of("ip", "netns", "add", name), null);
        if (!r.ok()) {
            throw new IOException("ip netns add " + name + " exited " + r.exitCode() + ": " + r.stderr().strip());
        }
        return new NetNs(name, legacy);
    }

    static boolean isRoot() {
        try {
            CommandRunner.Result r = CommandRunners.process().run(List.of("id", "-u"), null);
            return r.ok() && r.stdout().strip().equals("0");
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs a command inside; throws when it fails. */
    String exec(String... argv) throws IOException {
        CommandRunner.Result r = runner.run(List.of(argv), null);
        if (!r.ok()) {
            throw new IOException(String.join(" ", argv) + " exited " + r.exitCode() + ": " + r.stderr().strip());
        }
        return r.stdout();
    }

    /**
     * Empties every table of this namespace (flush, then delete user chains). Only for the
     * benchmark's own throwaway namespace: it reads nothing back, so it stays cheap at 10k
     * Services, where a parse of iptables-save would dominate the harness.
     */
    void flushAll() throws IOException {
        for (String table : List.of("filter", "nat", "mangle")) {
            for (String op : List.of("-F", "-X")) {
                CommandRunner.Result r = runner.run(List.of("iptables", "-w", "60", "-t", table, op), null);
                if (!r.ok()) {
                    throw new IOException("iptables -t " + table + " " + op + " in " + name + " exited "
                            + r.exitCode() + ": " + r.stderr().strip());
                }
            }
        }
    }

    private synchronized void deleteQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            CommandRunners.process().run(List.of("ip", "netns", "del", name), null);
        } catch (IOException e) {
            System.err.println("could not delete network namespace " + name + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        deleteQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs (and finds the namespace gone)
        }
    }
}
