package dev.ferry.bench;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.CommandRunner;
import dev.ferry.iptables.IptablesBackend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The 10,000-Service scale benchmark (not a test): builds the cluster, times our own work
 * in-process, then, inside a fresh network namespace, times our real syncs side by side with
 * {@code iptables-restore} of the very same payloads (same binary, same flags, same starting
 * rules), and prints one table. Needs root (ip netns). See docs/BENCHMARKS.md.
 *
 * <p>Fairness: the baseline restores the payload our sync just restored, through the same
 * runner ({@code ip netns exec NS iptables-restore …}); "onto empty" means both start right
 * after our {@code cleanup()} removed every KUBE-* chain, "re-sync" means both run onto the
 * full rule set already in place (a restarted proxy, or the periodic full sync).
 *
 * <p>Threads: everything runs on the main thread, so per-thread allocation counts our work.
 */
public final class ScaleBenchmark {

    private final Options options;
    private final Cluster cluster;
    private final ChangeTracker tracker = Cluster.newTracker();
    private final Results results = new Results();
    private ProxySnapshot snapshot;
    private final Map<Integer, Integer> versions = new HashMap<>();

    private ScaleBenchmark(Options options) {
        this.options = options;
        this.cluster = new Cluster(options.services, options.endpoints);
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        if (!options.skipKernel && !NetNs.isRoot()) {
            System.err.println("ScaleBenchmark needs root (ip netns add); use --no-kernel for the in-process part only");
            System.exit(2);
        }
        new ScaleBenchmark(options).run();
    }

    private void run() throws IOException {
        results.header(options);
        Meter.resetPeaks();
        buildSnapshot();
        inProcess();
        if (!options.skipKernel) {
            try (NetNs ns = NetNs.create()) {
                inKernel(ns);
            }
        }
        results.heapAfterGc = Meter.heapUsedAfterGc();
        results.heapPeak = Meter.heapPeakUpperBound();
        results.print(System.out);
    }

    /** The tracker's first snapshot of the whole cluster (input objects dropped as fed). */
    private void buildSnapshot() {
        long a0 = Meter.allocatedBytes();
        long t0 = System.nanoTime();
        snapshot = cluster.fullSnapshot(tracker);
        results.initialSnapshot.add(System.nanoTime() - t0);
        results.initialSnapshotAlloc.add(Meter.allocatedBytes() - a0);
    }

    /** Rule generation without the kernel: the backend over a canned kernel. */
    private void inProcess() {
        CapturingKernel capture = new CapturingKernel();
        check(new IptablesBackend(IpFamily.IPV4, BenchConfig.iptables(), capture).sync(snapshot), "capture");
        CannedKernel afterFull = CannedKernel.after(capture.payload());
        results.fullPayloadBytes = capture.payload().length();
        results.fullPayloadLines = capture.payload().chars().filter(c -> c == '\n').count();

        for (int i = 0; i < options.warmup + options.reps; i++) {
            boolean measure = i >= options.warmup;
            IptablesBackend fresh = new IptablesBackend(IpFamily.IPV4, BenchConfig.iptables(), CannedKernel.empty());
            measureSync(fresh, snapshot, measure ? results.genFull : null, measure ? results.genFullAlloc : null);
        }
        // Partial: one Service's endpoint flips between two addresses; each sync is a real change.
        IptablesBackend partial = new IptablesBackend(IpFamily.IPV4, BenchConfig.iptables(), afterFull);
        check(partial.sync(snapshot), "full before partial");
        int k = cluster.services() / 2;
        for (int i = 0; i < options.warmup + options.reps; i++) {
            boolean measure = i >= options.warmup;
            ProxySnapshot next = changeOneEndpoint(k, i % 2 == 0 ? 1 : 0, measure);
            SyncResult r = measureSync(partial, next, measure ? results.genPartial : null,
                    measure ? results.genPartialAlloc : null);
            results.genPartialWasFull |= r.full();
        }
        // The kernel rounds start from full syncs of the tracker's current state.
        snapshot = tracker.snapshot();
    }

    /** Real syncs in the namespace, each next to iptables-restore of the same payload. */
    private void inKernel(NetNs ns) throws IOException {
        RecordingRunner rec = new RecordingRunner(ns.runner);
        IptablesBackend janitor = new IptablesBackend(IpFamily.IPV4, BenchConfig.iptables(), ns.runner);
        for (int i = 0; i < options.warmup + options.reps; i++) {
            boolean m = i >= options.warmup;
            System.err.printf("kernel round %d/%d%s%n", i + 1, options.warmup + options.reps, m ? "" : " (warm-up)");

            check(janitor.cleanup(), "cleanup");
            rec.reset();
            IptablesBackend first = new IptablesBackend(IpFamily.IPV4, BenchConfig.iptables(), rec);
            measureSync(first, snapshot, m ? results.syncEmpty : null, m ? results.syncEmptyAlloc : null);
            if (m) {
                results.syncEmptySave.add(rec.saveNanos());
                results.syncEmptyRestore.add(rec.restoreNanos());
            }
            Replay onto = new Replay(rec);
            check(janitor.cleanup(), "cleanup");
            onto.time(ns.runner, m ? results.baseEmpty : null);
            if (i == 0) {
                results.natRulesInKernel = countRules(ns);
            }

            rec.reset();
            IptablesBackend restarted = new IptablesBackend(IpFamily.IPV4, BenchConfig.iptables(), rec);
            measureSync(restarted, snapshot, m ? results.syncResync : null, m ? results.syncResyncAlloc : null);
            if (m) {
                results.syncResyncSave.add(rec.saveNanos());
                results.syncResyncRestore.add(rec.restoreNanos());
            }
            new Replay(rec).time(ns.runner, m ? results.baseResync : null);

            rec.reset();
            ProxySnapshot next = changeOneEndpoint(cluster.services() / 3, i + 2, m);
            SyncResult r = measureSync(restarted, next, m ? results.syncPartial : null,
                    m ? results.syncPartialAlloc : null);
            results.syncPartialWasFull |= r.full();
            if (m) {
                results.syncPartialSave.add(rec.saveNanos());
                results.syncPartialRestore.add(rec.restoreNanos());
                results.partialPayloadBytes = rec.lastRestoreInput().length;
            }
            new Replay(rec).time(ns.runner, m ? results.basePartial : null);
            snapshot = next;
        }
        check(janitor.cleanup(), "final cleanup");
    }

    /** Moves Service i's first endpoint to address version v (0 = original); returns the next snapshot. */
    private ProxySnapshot changeOneEndpoint(int i, int version, boolean measure) {
        int before = versions.getOrDefault(i, 0);
        versions.put(i, version);
        long a0 = Meter.allocatedBytes();
        long t0 = System.nanoTime();
        tracker.updateEndpointSlice(cluster.changedSlice(i, before), cluster.changedSlice(i, version));
        ProxySnapshot next = tracker.snapshot();
        if (measure) {
            results.changeSnapshot.add(System.nanoTime() - t0);
            results.changeSnapshotAlloc.add(Meter.allocatedBytes() - a0);
        }
        return next;
    }

    private static SyncResult measureSync(IptablesBackend backend, ProxySnapshot snap, Samples time, Samples alloc) {
        long a0 = Meter.allocatedBytes();
        long t0 = System.nanoTime();
        SyncResult r = backend.sync(snap);
        long took = System.nanoTime() - t0;
        long allocated = Meter.allocatedBytes() - a0;
        check(r, "sync");
        if (time != null) {
            time.add(took);
            alloc.add(allocated);
        }
        return r;
    }

    private static int countRules(NetNs ns) throws IOException {
        int n = 0;
        for (String line : ns.exec("iptables-save", "-t", "nat").split("\n")) {
            if (line.startsWith("-A KUBE-")) {
                n++;
            }
        }
        return n;
    }

    static SyncResult check(SyncResult r, String what) {
        if (!r.ok()) {
            throw new IllegalStateException(what + " failed: " + r.error());
        }
        return r;
    }

    /** The restore our sync just ran, to run again by itself with the same argv and input. */
    private static final class Replay {
        private final List<String> argv;
        private final byte[] input;

        Replay(RecordingRunner rec) {
            if (rec.restores() != 1) {
                throw new IllegalStateException("expected one restore per sync, saw " + rec.restores());
            }
            this.argv = rec.lastRestoreArgv();
            this.input = rec.lastRestoreInput();
        }

        void time(CommandRunner runner, Samples out) throws IOException {
            long t0 = System.nanoTime();
            CommandRunner.Result r = runner.run(argv, input);
            long took = System.nanoTime() - t0;
            if (!r.ok()) {
                throw new IOException("baseline " + String.join(" ", argv) + " exited " + r.exitCode() + ": "
                        + r.stderr().strip());
            }
            if (out != null) {
                out.add(took);
            }
        }
    }

    /** Keeps the restore input of a sync that runs against nothing. */
    private static final class CapturingKernel implements CommandRunner {
        private String payload;

        String payload() {
            return payload;
        }

        @Override
        public Result run(List<String> argv, byte[] stdin) {
            if (argv.get(0).endsWith("-restore")) {
                payload = new String(stdin, StandardCharsets.UTF_8);
            }
            return new Result(0, "", "");
        }
    }

    /** --services N --endpoints M --reps R --warmup W --no-kernel */
    static final class Options {
        int services = 10_000;
        int endpoints = 10;
        int reps = 5;
        int warmup = 1;
        boolean skipKernel;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--services" -> o.services = Integer.parseInt(args[++i]);
                    case "--endpoints" -> o.endpoints = Integer.parseInt(args[++i]);
                    case "--reps" -> o.reps = Integer.parseInt(args[++i]);
                    case "--warmup" -> o.warmup = Integer.parseInt(args[++i]);
                    case "--no-kernel" -> o.skipKernel = true;
                    default -> throw new IllegalArgumentException("unknown option " + a
                            + " (known: --services N --endpoints M --reps R --warmup W --no-kernel)");
                }
            }
            if (o.reps < 1 || o.warmup < 0) {
                throw new IllegalArgumentException("--reps must be >= 1 and --warmup >= 0");
            }
            return o;
        }
    }
}
