package dev.ferry.iptables;

import dev.ferry.core.Backend;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * iptables mode for one IP family: writes the rules for a snapshot and applies them with one
 * {@code iptables-restore --noflush --counters} (atomic per table: on failure nothing of that
 * table's part is applied, and a filter part already committed is rolled back).
 *
 * <p>Full and partial syncs, as upstream: the first sync, a sync after any failure, after the
 * node changed, after the canary chain disappeared and one every {@code fullSyncPeriod}
 * (an hour) rewrite everything; the others only rewrite the chains of changed service ports
 * plus those shared chains whose rules changed (see {@link IptablesRuleWriter}); with nothing
 * to write, no iptables-restore runs. The node's tables are read (iptables-save) only when
 * what is on the node is not known from our own last successful restore: at start, after a failure,
 * after the canary disappeared and on the periodic full sync. Before a partial sync one cheap
 * {@code iptables -t mangle -S KUBE-PROXY-CANARY} checks nobody flushed us.
 *
 * <p>Threads: {@link #sync} and {@link #cleanup} run on the sync thread only;
 * {@link #restoreFailures()} may be read from any thread. On failure the rules in place stay,
 * the result carries iptables-restore's error, and the next sync is a full one.
 */
public final class IptablesBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesBackend.class);

    /** Wait up to 5 s for the xtables lock, polling every 100 ms, as upstream does. */
    static final List<String> RESTORE_FLAGS = List.of("-w", "5", "-W", "100000", "--noflush", "--counters");

    /** Upstream's proxyutil.FullSyncPeriod. */
    public static final Duration DEFAULT_FULL_SYNC_PERIOD = Duration.ofHours(1);

    static final String ROUTE_LOCALNET = "net/ipv4/conf/all/route_localnet";
    static final String TCP_BE_LIBERAL = "net/netfilter/nf_conntrack_tcp_be_liberal";
    /**
     * The canary is declared in mangle, nat and filter but checked only in mangle, as
     * upstream's monitor does (ChainExists on its first table): mangle is tiny, while listing
     * even one chain of a big nat table costs iptables-legacy a read of the whole table
     * (0.6 s at 10k Services). A flush of every table (firewalld reload, iptables -F) takes
     * mangle's canary too; a partial restore onto a nat table flushed alone fails on the
     * missing chains, and the next sync is a full one.
     */
    static final String CANARY_TABLE = "mangle";

    /** Checked as well when a partial sync has nothing to write (its cost does not matter then). */
    private static final String[] IDLE_CANARY_TABLES = {"nat", "filter"};

    private final IpFamily family;
    private final IptablesConfig config;
    private final CommandRunner runner;
    private final IptablesRuleWriter writer;
    private final LocalAddresses localAddresses;
    private final Sysctls sysctls;
    private final long fullSyncPeriodNanos;
    private final LongSupplier nanoClock;
    private final AtomicLong restoreFailures = new AtomicLong();
    private boolean needFullSync = true;
    private boolean needRead = true;
    private long lastFullSync;
    /** Our filter part as last applied (without jump inserts), to roll back when no dump was read. */
    private String lastFilterSection;

    /**
     * @param runner runs iptables-save / iptables-restore (or ip6tables-*); a dry-run runner
     *               prints the restore input and reports empty tables
     */
    public IptablesBackend(IpFamily family, IptablesConfig config, CommandRunner runner) {
        this(builder(family, config, runner));
    }

    private IptablesBackend(Builder b) {
        this.family = b.family;
        this.config = b.config;
        this.runner = b.runner;
        this.writer = new IptablesRuleWriter(family, config);
        this.localAddresses = b.localAddresses;
        this.sysctls = b.sysctls != null ? b.sysctls : defaultSysctls(b.runner);
        this.fullSyncPeriodNanos = b.fullSyncPeriod.toNanos();
        this.nanoClock = b.nanoClock;
    }

    /** For the settings the 3-argument constructor leaves at their defaults. */
    public static Builder builder(IpFamily family, IptablesConfig config, CommandRunner runner) {
        return new Builder(family, config, runner);
    }

    /** Optional collaborators of a backend; each has a default for a real node. */
    public static final class Builder {
        private final IpFamily family;
        private final IptablesConfig config;
        private final CommandRunner runner;
        private LocalAddresses localAddresses = LocalAddresses.ofThisMachine();
        private Sysctls sysctls;
        private Duration fullSyncPeriod = DEFAULT_FULL_SYNC_PERIOD;
        private LongSupplier nanoClock = System::nanoTime;

        private Builder(IpFamily family, IptablesConfig config, CommandRunner runner) {
            this.family = Objects.requireNonNull(family, "family");
            this.config = Objects.requireNonNull(config, "config");
            this.runner = Objects.requireNonNull(runner, "runner");
        }

        /** The node's interface addresses, for --nodeport-addresses CIDRs (default: this machine's). */
        public Builder localAddresses(LocalAddresses addresses) {
            this.localAddresses = Objects.requireNonNull(addresses, "addresses");
            return this;
        }

        /**
         * Kernel settings (default: /proc/sys when the runner is {@link CommandRunners#process()},
         * nothing written for a dry run, else the {@code sysctl} program through the runner).
         */
        public Builder sysctls(Sysctls sysctls) {
            this.sysctls = Objects.requireNonNull(sysctls, "sysctls");
            return this;
        }

        /** How often a sync is a full one even when nothing forces it (default: one hour). */
        public Builder fullSyncPeriod(Duration period) {
            if (period.isNegative() || period.isZero()) {
                throw new IllegalArgumentException("full sync period must be positive: " + period);
            }
            this.fullSyncPeriod = period;
            return this;
        }

        /** Monotonic nanoseconds, for the full sync period (tests pass a fake). */
        public Builder nanoClock(LongSupplier clock) {
            this.nanoClock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public IptablesBackend build() {
            return new IptablesBackend(this);
        }
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

    String iptablesCommand() {
        return family == IpFamily.IPV4 ? "iptables" : "ip6tables";
    }

    @Override
    public SyncResult sync(ProxySnapshot snapshot) {
        long start = System.nanoTime();
        boolean full = true;
        try {
            Objects.requireNonNull(snapshot, "snapshot");
            long now = nanoClock.getAsLong();
            full = needFullSync || snapshot.nodeChanged();
            if (!full && now - lastFullSync >= fullSyncPeriodNanos) {
                full = true;
                needRead = true; // hourly: re-check jumps and stale chains against the node
            }
            if (!full) {
                String missing = missingCanary(CANARY_TABLE);
                if (missing != null) {
                    LOG.info("{}: {} is gone from the {} table (someone flushed our rules); resyncing everything",
                            family, ChainNames.CANARY, missing);
                    full = true;
                    needRead = true;
                }
            }
            if (full) {
                setUpKernel(snapshot);
            }
            IptablesDump existing = full && needRead ? save(IptablesRuleWriter::readsRulesOf, "nat", "filter") : null;
            List<InetAddress> addresses = writer.needsLocalAddresses(snapshot) ? localAddresses.addresses() : List.of();
            Payload payload = writer.write(snapshot, new IptablesRuleWriter.Request(full, existing, full, addresses));
            IptablesRuleWriter.Stats stats = writer.lastStats();
            if (!stats.keptStaleChains().isEmpty()) {
                LOG.warn("{}: stale chains {} are still referenced by rules we do not own; left in place",
                        family, stats.keptStaleChains());
            }
            if (!full && payload.isEmpty()) {
                // Nothing to write, so no restore would fail on a nat or filter table flushed on
                // its own (mangle's canary survives that). An idle sync can afford to look.
                String gone = missingCanary(IDLE_CANARY_TABLES);
                if (gone != null) {
                    writer.abandon();
                    LOG.info("{}: {} is gone from the {} table (someone flushed our rules); resyncing everything",
                            family, ChainNames.CANARY, gone);
                    needFullSync = true;
                    needRead = true;
                    return sync(snapshot);
                }
            }
            // A partial sync with nothing to change writes no table at all: nothing to run.
            String error = payload.isEmpty() ? null : restore(payload);
            if (error != null) {
                writer.abandon();
                return fail(full, start, error + rollBackFilter(existing, payload.toString(), error), true);
            }
            writer.commit();
            lastFilterSection = writer.filterSectionWithoutInserts();
            needFullSync = false;
            needRead = false;
            if (full) {
                lastFullSync = now;
            }
            // kubeproxy_sync_proxy_rules_iptables_total / _last: filter is always written whole
            return SyncResult.success(full, stats.filterRules() + stats.natRules(), since(start)).withTableRules(
                    Map.of("filter", stats.filterRulesOwned(), "nat", stats.natRulesOwned()),
                    // written: the rules of our chains in the payload (jumps from built-in chains left out, as upstream)
                    Map.of("filter", payload.isEmpty() ? 0 : stats.filterRulesOwned(),
                            "nat", payload.isEmpty() ? 0 : stats.natRules() - stats.natJumps()));
        } catch (Throwable e) { // the contract: a sync never throws
            writer.abandon();
            return fail(full, start, family + " sync failed: " + describe(e));
        }
    }

    /**
     * Kernel settings a full sync relies on: route_localnet for localhost NodePorts (IPv4,
     * as upstream decides), and whether tcp_be_liberal makes the INVALID drop unnecessary.
     */
    private void setUpKernel(ProxySnapshot snapshot) throws java.io.IOException {
        if (writer.localhostNodePorts(snapshot)) {
            OptionalLong current = sysctls.read(ROUTE_LOCALNET);
            if (current.isEmpty() || current.getAsLong() != 1) {
                LOG.info("Setting route_localnet=1 to allow NodePorts on localhost; to change this disable "
                        + "--iptables-localhost-nodeports or set --nodeport-addresses to exclude 127.0.0.0/8");
                sysctls.write(ROUTE_LOCALNET, 1);
            }
        }
        OptionalLong liberal = sysctls.read(TCP_BE_LIBERAL);
        writer.conntrackTcpLiberal(liberal.isPresent() && liberal.getAsLong() != 0);
    }

    /** The first table whose canary chain is missing, or null when they are all there. */
    private String missingCanary(String... tables) throws java.io.IOException {
        for (String table : tables) {
            CommandRunner.Result r = runner.run(List.of(iptablesCommand(), "-w", "5", "-W", "100000",
                    "-t", table, "-S", ChainNames.CANARY), null);
            if (!r.ok()) {
                return table;
            }
        }
        return null;
    }

    /**
     * The kernel the runner programs: /proc/sys when it runs programs right here, nothing
     * written for a dry run, else through the runner's own {@code sysctl} (a runner prefixed
     * with {@code ip netns exec NS} programs NS, whose settings are not this JVM's /proc/sys).
     */
    private static Sysctls defaultSysctls(CommandRunner runner) {
        if (!runner.appliesChanges()) {
            return readOnly(Sysctls.procSys());
        }
        return runner instanceof CommandRunners.LocalProcessRunner ? Sysctls.procSys() : Sysctls.viaCommands(runner);
    }

    private static Sysctls readOnly(Sysctls inner) {
        return new Sysctls() {
            @Override
            public OptionalLong read(String name) throws java.io.IOException {
                return inner.read(name);
            }

            @Override
            public void write(String name, long value) {
                LOG.info("dry run: would set sysctl {}={}", name, value);
            }
        };
    }

    private SyncResult fail(boolean full, long start, String error) {
        return fail(full, start, error, false);
    }

    /** @param applyFailed iptables-restore of the sync's rules failed (not a read, a write or a check before it) */
    private SyncResult fail(boolean full, long start, String error, boolean applyFailed) {
        needFullSync = true;
        needRead = true;
        // One line: iptables-restore's stderr spans several, and logs keep one line per sync.
        String oneLine = error.strip().replaceAll("\\s*\\R\\s*", " | ");
        LOG.debug("{}", oneLine); // the caller reports the failed result
        return applyFailed ? SyncResult.applyFailure(full, since(start), oneLine)
                : SyncResult.failure(full, since(start), oneLine);
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
            // Only rules outside our chains matter: jumps to remove, foreign references that pin a chain.
            IptablesDump existing = save((table, chain) -> !ChainNames.isOurs(chain), "nat", "filter", "mangle");
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
        if (existing == null) {
            if (lastFilterSection == null) {
                return " (filter table not rolled back: its previous state is unknown; the next full sync repairs it)";
            }
            existing = IptablesDump.empty().apply(lastFilterSection);
        }
        String undo = Rollback.of(existing, payload, "filter");
        if (undo.isEmpty()) {
            return "";
        }
        String undoError = restore(undo);
        return undoError == null ? " (filter table rolled back)" : " (filter roll-back failed too: " + undoError + ")";
    }

    /**
     * The tables as iptables-save prints them, streamed, keeping the rules of only the chains
     * {@code keep} accepts (a 10k-Service nat table is 30 MB of text, 300k rules); a table the
     * kernel lacks reads as empty.
     */
    private IptablesDump save(IptablesDump.RuleFilter keep, String... tables) throws Exception {
        IptablesDump.LeanReader reader = new IptablesDump.LeanReader(keep);
        for (String table : tables) {
            CommandRunner.Result r = runner.runReading(List.of(saveCommand(), "-t", table), reader::read);
            if (!r.ok()) {
                throw new IllegalStateException(saveCommand() + " -t " + table + " exited " + r.exitCode()
                        + ": " + r.stderr().strip());
            }
        }
        return reader.result();
    }

    /** Applies the payload; returns null on success, else what went wrong. */
    private String restore(String payload) {
        return restore(out -> out.write(payload.getBytes(StandardCharsets.UTF_8)), payload::toString);
    }

    private String restore(Payload payload) {
        return restore(payload, payload::toString);
    }

    private String restore(CommandRunner.Input payload, java.util.function.Supplier<String> text) {
        List<String> argv = new ArrayList<>(1 + RESTORE_FLAGS.size());
        argv.add(restoreCommand());
        argv.addAll(RESTORE_FLAGS);
        CommandRunner.Result r;
        try {
            r = runner.runStreaming(argv, payload);
        } catch (Throwable e) {
            restoreFailures.incrementAndGet();
            return restoreCommand() + " could not run: " + describe(e);
        }
        if (r.ok()) {
            return null;
        }
        restoreFailures.incrementAndGet();
        return restoreCommand() + " exited " + r.exitCode() + ": " + r.stderr().strip()
                + RestoreErrors.failingLines(r.stderr(), text.get());
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
