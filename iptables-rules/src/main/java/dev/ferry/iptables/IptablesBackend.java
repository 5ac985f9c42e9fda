package dev.ferry.iptables;

import dev.ferry.core.Backend;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncGuard;
import dev.ferry.core.SyncResult;
import dev.ferry.core.SyncTimer;
import dev.ferry.netfilter.CleanupPlan;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.Iptables;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.KubeChains;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.netfilter.Sysctls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

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
    private final Iptables iptables;
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
    /** The payload line the last failed restore named, or -1. */
    private int failedLine = -1;
    /** The host sets nf_conntrack_tcp_be_liberal (read on each full sync): no INVALID drop. */
    private boolean conntrackTcpLiberal;

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
        this.iptables = new Iptables(b.family, b.runner);
        this.writer = new IptablesRuleWriter(family, config, true, false, b.leftovers);
        this.localAddresses = b.localAddresses;
        this.sysctls = b.sysctls != null ? b.sysctls : Sysctls.of(b.runner);
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
        private Predicate<String> leftovers = chain -> false;

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
         * Kernel settings (default: those of the kernel the runner programs, {@link Sysctls#of}).
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

        /** Other modes' chains, removed with the jumps to them by a full sync that read the node (default: none). */
        public Builder leftovers(Predicate<String> chains) {
            this.leftovers = Objects.requireNonNull(chains, "chains");
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

    /** iptables-restore runs that failed (sync, roll-back and cleanup restores alike). */
    public long restoreFailures() {
        return restoreFailures.get();
    }

    @Override
    public SyncResult sync(ProxySnapshot snapshot) {
        Objects.requireNonNull(snapshot, "snapshot");
        SyncTimer timer = SyncTimer.start();
        boolean ok = false;
        try {
            SyncResult result = attempt(snapshot, timer);
            if (result == null) { // an idle partial sync found our rules flushed: again, in full
                result = attempt(snapshot, timer);
            }
            ok = result.ok();
            return result;
        } finally {
            if (!ok) { // it failed, or threw (SyncGuard reports that): the next sync reads the node and writes everything
                writer.abandon();
                needFullSync = true;
                needRead = true;
            }
        }
    }

    /** One sync; null when a partial sync with nothing to write found our rules flushed (then sync in full). */
    private SyncResult attempt(ProxySnapshot snapshot, SyncTimer timer) {
        long now = nanoClock.getAsLong();
        boolean full = needFullSync || snapshot.nodeChanged();
        try {
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
            IptablesDump existing = full && needRead ? iptables.save(IptablesRuleWriter::readsRulesOf, "nat", "filter") : null;
            List<InetAddress> addresses = writer.needsLocalAddresses(snapshot) ? localAddresses.addresses() : List.of();
            IptablesRuleWriter.Written written = writer.write(snapshot,
                    new IptablesRuleWriter.Request(full, existing, full, addresses, conntrackTcpLiberal));
            Payload payload = written.payload();
            IptablesRuleWriter.Stats stats = written.stats();
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
                    return null;
                }
            }
            // A partial sync with nothing to change writes no table at all: nothing to run.
            boolean wrote = !payload.isEmpty();
            String error = wrote ? restore(payload) : null;
            if (error != null) {
                writer.abandon();
                return timer.applyFailure(full, error + rollBackFilter(existing, payload.toString()));
            }
            lastFilterSection = writer.commit(); // releases the payload's buffers
            needFullSync = false;
            needRead = false;
            if (full) {
                lastFullSync = now;
            }
            // kubeproxy_sync_proxy_rules_iptables_total / _last: filter is always written whole
            return timer.success(full, stats.filterRules() + stats.natRules()).withCounts(
                    Map.of("filter", stats.filterRulesOwned(), "nat", stats.natRulesOwned()),
                    // written: the rules of our chains in the payload (jumps from built-in chains left out, as upstream)
                    Map.of("filter", wrote ? stats.filterRulesOwned() : 0,
                            "nat", wrote ? stats.natRules() - stats.natJumps() : 0));
        } catch (IOException | IllegalArgumentException e) { // a command failed, or its output did not parse
            return timer.failure(full, family + " sync failed: " + SyncGuard.describe(e));
        }
    }

    /**
     * Kernel settings a full sync relies on: route_localnet for localhost NodePorts (IPv4,
     * as upstream decides), and whether tcp_be_liberal makes the INVALID drop unnecessary.
     */
    private void setUpKernel(ProxySnapshot snapshot) throws IOException {
        if (writer.localhostNodePorts(snapshot)) {
            OptionalLong current = sysctls.read(ROUTE_LOCALNET);
            if (current.isEmpty() || current.getAsLong() != 1) {
                LOG.info("Setting route_localnet=1 to allow NodePorts on localhost; to change this disable "
                        + "--iptables-localhost-nodeports or set --nodeport-addresses to exclude 127.0.0.0/8");
                sysctls.write(ROUTE_LOCALNET, 1);
            }
        }
        OptionalLong liberal = sysctls.read(TCP_BE_LIBERAL);
        conntrackTcpLiberal = liberal.isPresent() && liberal.getAsLong() != 0;
    }

    /** The first table whose canary chain is missing, or null when they are all there. */
    private String missingCanary(String... tables) throws IOException {
        for (String table : tables) {
            if (!iptables.chainExists(table, ChainNames.CANARY)) {
                return table;
            }
        }
        return null;
    }

    /**
     * Removes every jump rule from a built-in chain into a chain of ours, then flushes and
     * deletes every chain of ours in nat, filter and mangle: the KUBE-* chains of every mode,
     * not the kubelet's ({@link KubeChains#isOurs}; upstream's cleanup keeps them too, even the
     * KUBE-FIREWALL this mode writes). Nothing else is touched. A chain of ours that a foreign
     * rule still jumps to cannot be deleted: it is flushed, kept, and named in the error.
     */
    @Override
    public SyncResult cleanup() {
        SyncTimer timer = SyncTimer.start();
        needFullSync = true;
        needRead = true;
        try {
            CleanupPlan plan = iptables.removeOwned(KubeChains::isOurs, "nat", "filter", "mangle");
            if (!plan.problems().isEmpty()) {
                return timer.failure(true, "cleanup: " + String.join("; ", plan.problems()));
            }
            return timer.success(true, plan.lines());
        } catch (Iptables.RestoreException e) {
            restoreFailures.incrementAndGet();
            return timer.failure(true, "cleanup: " + e.getMessage());
        } catch (IOException | IllegalArgumentException e) {
            return timer.failure(true, family + " cleanup failed: " + SyncGuard.describe(e));
        }
    }

    /**
     * iptables-restore commits table by table: if it failed after the filter table's COMMIT,
     * the filter part is in place while nat is not. Put filter back as it was.
     */
    private String rollBackFilter(IptablesDump existing, String payload) {
        int failedAt = failedLine;
        int filterCommit = Iptables.commitLine(payload, "filter");
        if (failedAt > 0 && failedAt <= filterCommit) {
            return ""; // failed in the filter part: nothing was committed
        }
        if (existing == null) {
            if (lastFilterSection == null) {
                return " (filter table not rolled back: its previous state is unknown; the next full sync repairs it)";
            }
            existing = IptablesDump.empty().apply(lastFilterSection);
        }
        String undo = Iptables.rollback(existing, payload, "filter");
        if (undo.isEmpty()) {
            return "";
        }
        String undoError = restore(undo);
        return undoError == null ? " (filter table rolled back)" : " (filter roll-back failed too: " + undoError + ")";
    }

    /** Applies the payload; returns null on success, else what went wrong. */
    private String restore(String payload) {
        return restore(out -> out.write(payload.getBytes(StandardCharsets.UTF_8)), payload::toString);
    }

    private String restore(Payload payload) {
        return restore(payload, payload::toString);
    }

    private String restore(CommandRunner.Input payload, java.util.function.Supplier<String> text) {
        failedLine = -1;
        try {
            iptables.restore(payload, text);
            return null;
        } catch (Iptables.RestoreException e) {
            restoreFailures.incrementAndGet();
            failedLine = e.reportedLine();
            return e.getMessage();
        } catch (IOException e) {
            restoreFailures.incrementAndGet();
            return e.getMessage();
        }
    }
}
