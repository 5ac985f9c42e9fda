package dev.ferry.netfilter;

import dev.ferry.core.IpFamily;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * One IP family's iptables programs ({@code iptables-save}, {@code iptables-restore} and
 * {@code iptables}, or their ip6tables twins), run as argument lists through a
 * {@link CommandRunner}: the one place every mode saves, restores, checks and cleans up its
 * rules. Every command waits for the xtables lock the same way ({@link #WAIT}).
 *
 * <p>Threads: not shared; the caller's thread runs the commands. Failures: a program that cannot
 * run or exits non-zero is an IOException naming the command and what it printed; a refused
 * restore is a {@link RestoreException} that also shows the payload lines it points at.
 */
public final class Iptables {

    /** Wait up to 5 s for the xtables lock, polling every 100 ms, as upstream does. */
    public static final List<String> WAIT = List.of("-w", "5", "-W", "100000");

    /** {@link #WAIT}, then keep every chain we do not name and the counters of those we rewrite. */
    public static final List<String> RESTORE_FLAGS = concat(WAIT, List.of("--noflush", "--counters"));

    /** iptables-restore refused a payload; nothing of the table it failed in was applied. */
    public static final class RestoreException extends IOException {
        private final int reportedLine;

        RestoreException(String message, int reportedLine) {
            super(message);
            this.reportedLine = reportedLine;
        }

        /** The payload line iptables-restore named, or -1. */
        public int reportedLine() {
            return reportedLine;
        }
    }

    private final IpFamily family;
    private final CommandRunner runner;

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }

    public Iptables(IpFamily family, CommandRunner runner) {
        this.family = Objects.requireNonNull(family, "family");
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    public IpFamily family() {
        return family;
    }

    /** "iptables" or "ip6tables". */
    public String command() {
        return family.iptables();
    }

    public String saveCommand() {
        return command() + "-save";
    }

    public String restoreCommand() {
        return command() + "-restore";
    }

    /**
     * The tables as iptables-save prints them, streamed, keeping the rules of only the chains
     * {@code keep} accepts (a 10k-Service nat table is 30 MB of text, 300k rules); a table the
     * kernel lacks reads as empty.
     */
    public IptablesDump save(IptablesDump.RuleFilter keep, String... tables) throws IOException {
        IptablesDump.LeanReader reader = new IptablesDump.LeanReader(keep);
        for (String table : tables) {
            CommandRunner.Result r = runner.runReading(List.of(saveCommand(), "-t", table), reader::read);
            if (!r.ok()) {
                throw new IOException(saveCommand() + " -t " + table + " exited " + r.exitCode() + ": "
                        + r.stderr().strip());
            }
        }
        return reader.result();
    }

    /** Every table, whole, as iptables-save prints it (for the inspection tools). */
    public String saveText() throws IOException {
        CommandRunner.Result r = runner.run(List.of(saveCommand()), null);
        if (!r.ok()) {
            throw new IOException(saveCommand() + " exited " + r.exitCode() + ": " + r.stderr().strip());
        }
        return r.stdout();
    }

    /** Null when iptables-save can read the nat table, else why not (not installed, no privileges). */
    public String unusable() {
        try {
            CommandRunner.Result r = runner.run(List.of(saveCommand(), "-t", "nat"), null);
            return r.ok() ? null : saveCommand() + " -t nat exited with " + r.exitCode() + ": " + r.stderr().strip();
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    /** Applies {@code payload} with {@link #RESTORE_FLAGS}. */
    public void restore(String payload) throws IOException {
        byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
        restore(out -> out.write(bytes), () -> payload);
    }

    /**
     * Applies a payload streamed to iptables-restore with {@link #RESTORE_FLAGS}.
     *
     * @param text the payload as text, asked for only to show the lines an error points at
     * @throws RestoreException when iptables-restore refuses it
     * @throws IOException      when it cannot run
     */
    public void restore(CommandRunner.Input payload, Supplier<String> text) throws IOException {
        List<String> argv = new ArrayList<>(1 + RESTORE_FLAGS.size());
        argv.add(restoreCommand());
        argv.addAll(RESTORE_FLAGS);
        CommandRunner.Result r;
        try {
            r = runner.runStreaming(argv, payload);
        } catch (IOException e) {
            throw new IOException(restoreCommand() + " could not run: " + e.getMessage(), e);
        }
        if (!r.ok()) {
            throw new RestoreException(restoreCommand() + " exited " + r.exitCode() + ": " + r.stderr().strip()
                    + RestoreErrors.failingLines(r.stderr(), text.get()), RestoreErrors.reportedLine(r.stderr()));
        }
    }

    /** Whether {@code chain} exists in {@code table} ({@code iptables -S}); the canary check. */
    public boolean chainExists(String table, String chain) throws IOException {
        return run(table, "-S", chain, List.of()).ok();
    }

    /** Whether the rule exists ({@code iptables -C}); a missing target chain reads as a missing rule. */
    public boolean ruleExists(String table, String chain, List<String> args) throws IOException {
        return run(table, "-C", chain, args).ok();
    }

    /** Deletes one copy of the rule ({@code iptables -D}); false when there was none. */
    public boolean deleteRule(String table, String chain, List<String> args) throws IOException {
        return run(table, "-D", chain, args).ok();
    }

    /**
     * Runs {@code iptables -t TABLE OP CHAIN ARGS...} (with {@link #WAIT}), e.g. {@code -F}, {@code -X}:
     * the result says whether it worked.
     */
    public CommandRunner.Result run(String table, String op, String chain, List<String> args) throws IOException {
        List<String> argv = new ArrayList<>(8 + args.size());
        argv.add(command());
        argv.addAll(WAIT);
        argv.add("-t");
        argv.add(table);
        argv.add(op);
        argv.add(chain);
        argv.addAll(args);
        return runner.run(argv, null);
    }

    /**
     * Removes our chains that {@code remove} accepts from {@code tables}, with every jump to them
     * from built-in chains, in one restore (see {@link CleanupPlan}); a chain a foreign chain
     * still jumps to is flushed but kept.
     *
     * @return what was removed ({@link CleanupPlan#lines()}) and what could not be, with why
     * @throws IOException when the tables cannot be read or the restore fails
     */
    public CleanupPlan removeOwned(Predicate<String> remove, String... tables) throws IOException {
        Objects.requireNonNull(remove, "remove");
        return removeOwned((table, chain) -> remove.test(chain), tables);
    }

    /**
     * {@link #removeOwned(Predicate, String...)} for a choice that depends on the table too:
     * {@code remove} is asked with the table's name and the chain's.
     */
    public CleanupPlan removeOwned(BiPredicate<String, String> remove, String... tables) throws IOException {
        // Only rules outside our chains matter: jumps to remove, foreign references that pin a chain.
        IptablesDump existing = save((table, chain) -> !KubeChains.isOurs(chain), tables);
        CleanupPlan plan = CleanupPlan.of(existing, remove);
        if (!plan.payload().isEmpty()) {
            restore(plan.payload());
        }
        return plan;
    }

    /**
     * Restore input that puts {@code table}'s KUBE-* chains and the jumps into them back as
     * {@code before} showed them, after {@code payload}'s part for that table was applied ("" when
     * there is nothing to undo). See {@link Rollback}.
     */
    public static String rollback(IptablesDump before, String payload, String table) {
        return Rollback.of(before, payload, table);
    }

    /** The 1-based line of the COMMIT that ends {@code table} in {@code payload}, or -1. */
    public static int commitLine(String payload, String table) {
        return Rollback.commitLine(payload, table);
    }

    /** Restore input that puts {@code table}'s KUBE-* state back from {@code now} to {@code before} (see {@link Rollback#between}). */
    public static String undo(IptablesDump before, IptablesDump now, String table) {
        return Rollback.between(before, now, table);
    }
}
