package dev.ferry.iptables;

import dev.ferry.core.Backend;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * iptables mode for one IP family: reads the node's nat and filter tables, writes the rules
 * for a snapshot and applies them with one {@code iptables-restore --noflush --counters}
 * (atomic: on failure nothing of the payload is applied).
 *
 * <p>Threads: {@link #sync} and {@link #cleanup} run on the sync thread only;
 * {@link #restoreFailures()} may be read from any thread. On failure the rules in place stay,
 * the result carries iptables-restore's error, and the next sync is a full one.
 */
public final class IptablesBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesBackend.class);

    /** Wait up to 5 s for the xtables lock, polling every 100 ms, as upstream does. */
    static final List<String> RESTORE_FLAGS = List.of("-w", "5", "-W", "100000", "--noflush", "--counters");

    private final IpFamily family;
    private final IptablesConfig config;
    private final CommandRunner runner;
    private final IptablesRuleWriter writer;
    private final AtomicLong restoreFailures = new AtomicLong();
    private boolean needFullSync = true;

    /**
     * @param runner runs iptables-save / iptables-restore (or ip6tables-*); a dry-run runner
     *               prints the restore input and reports empty tables
     */
    public IptablesBackend(IpFamily family, IptablesConfig config, CommandRunner runner) {
        this.family = Objects.requireNonNull(family, "family");
        this.config = Objects.requireNonNull(config, "config");
        this.runner = Objects.requireNonNull(runner, "runner");
        this.writer = new IptablesRuleWriter(family, config);
    }

    @Override
    public String mode() {
        return "iptables";
    }

    public IpFamily family() {
        return family;
    }

    /** iptables-restore runs that failed, for kubeproxy_sync_proxy_rules_iptables_restore_failures_total. */
    public long restoreFailures() {
        return restoreFailures.get();
    }

    String saveCommand() {
        return family == IpFamily.IPV4 ? "iptables-save" : "ip6tables-save";
    }

    String restoreCommand() {
        return family == IpFamily.IPV4 ? "iptables-restore" : "ip6tables-restore";
    }

    @Override
    public SyncResult sync(ProxySnapshot snapshot) {
        long start = System.nanoTime();
        // Partial syncs (only changed services' chains) come with issue 3; until then every
        // sync rewrites everything, which is always correct.
        boolean full = true;
        try {
            Objects.requireNonNull(snapshot, "snapshot");
            IptablesDump existing = save("nat", "filter");
            String payload = writer.write(snapshot, existing, full || needFullSync || snapshot.nodeChanged());
            IptablesRuleWriter.Stats stats = writer.lastStats();
            if (!stats.keptStaleChains().isEmpty()) {
                LOG.warn("{}: stale chains {} are still referenced by rules we do not own; left in place",
                        family, stats.keptStaleChains());
            }
            String error = restore(payload);
            if (error != null) {
                return fail(full, start, error + rollBackFilter(existing, payload, error));
            }
            needFullSync = false;
            return SyncResult.success(full, stats.filterRules() + stats.natRules(), since(start));
        } catch (Throwable e) { // the contract: a sync never throws
            return fail(full, start, family + " sync failed: " + describe(e));
        }
    }

    private SyncResult fail(boolean full, long start, String error) {
        needFullSync = true;
        // One line: iptables-restore's stderr spans several, and logs keep one line per sync.
        String oneLine = error.strip().replaceAll("\\s*\\R\\s*", " | ");
        LOG.debug("{}", oneLine); // the caller reports the failed result
        return SyncResult.failure(full, since(start), oneLine);
    }

    /**
     * Removes every jump rule from a built-in chain into a KUBE-* chain, then flushes and
     * deletes every KUBE-* chain in nat, filter and mangle. Nothing else is touched. A KUBE-*
     * chain that a foreign rule still jumps to cannot be deleted: it is flushed, kept, and
     * named in the error.
     */
    @Override
    public SyncResult cleanup() {
        long start = System.nanoTime();
        try {
            IptablesDump existing = save("nat", "filter", "mangle");
            CleanupPlan plan = CleanupPlan.of(existing);
            int lines = 0;
            if (!plan.payload().isEmpty()) {
                String error = restore(plan.payload());
                if (error != null) {
                    return fail(true, start, "cleanup: " + error);
                }
                lines = plan.lines();
            }
            needFullSync = true;
            if (!plan.problems().isEmpty()) {
                return fail(true, start, "cleanup: " + String.join("; ", plan.problems()));
            }
            return SyncResult.success(true, lines, since(start));
        } catch (Throwable e) {
            return fail(true, start, family + " cleanup failed: " + describe(e));
        }
    }

    /**
     * iptables-restore commits table by table: if it failed after the filter table's COMMIT,
     * the filter part is in place while nat is not. Put filter back as it was.
     */
    private String rollBackFilter(IptablesDump existing, String payload, String error) {
        int failedAt = RestoreErrors.reportedLine(error);
        int filterCommit = Rollback.commitLine(payload, "filter");
        if (failedAt > 0 && failedAt <= filterCommit) {
            return ""; // failed in the filter part: nothing was committed
        }
        String undo = Rollback.of(existing, payload, "filter");
        if (undo.isEmpty()) {
            return "";
        }
        String undoError = restore(undo);
        return undoError == null ? " (filter table rolled back)" : " (filter roll-back failed too: " + undoError + ")";
    }

    /** The tables as iptables-save prints them; a table the kernel lacks reads as empty. */
    private IptablesDump save(String... tables) throws Exception {
        StringBuilder all = new StringBuilder();
        for (String table : tables) {
            CommandRunner.Result r = runner.run(List.of(saveCommand(), "-t", table), null);
            if (!r.ok()) {
                throw new IllegalStateException(saveCommand() + " -t " + table + " exited " + r.exitCode()
                        + ": " + r.stderr().strip());
            }
            all.append(r.stdout());
            if (!r.stdout().endsWith("\n") && !r.stdout().isEmpty()) {
                all.append('\n');
            }
        }
        return IptablesDump.parse(all.toString());
    }

    /** Applies the payload; returns null on success, else what went wrong. */
    private String restore(String payload) {
        List<String> argv = new ArrayList<>(1 + RESTORE_FLAGS.size());
        argv.add(restoreCommand());
        argv.addAll(RESTORE_FLAGS);
        CommandRunner.Result r;
        try {
            r = runner.run(argv, payload.getBytes(StandardCharsets.UTF_8));
        } catch (Throwable e) {
            restoreFailures.incrementAndGet();
            return restoreCommand() + " could not run: " + describe(e);
        }
        if (r.ok()) {
            return null;
        }
        restoreFailures.incrementAndGet();
        return restoreCommand() + " exited " + r.exitCode() + ": " + r.stderr().strip()
                + RestoreErrors.failingLines(r.stderr(), payload);
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isEmpty()) {
            return e.getClass().getSimpleName();
        }
        // Our own I/O and state errors already say what failed; anything else is a bug: name it.
        return e instanceof java.io.IOException || e instanceof IllegalStateException
                ? message : e.getClass().getSimpleName() + ": " + message;
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
