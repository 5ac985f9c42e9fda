package dev.ferry.bench;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.netfilter.CommandRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The 10,000-Service scale benchmark (not a test): builds the cluster, times our own work
 * in-process, then, inside a fresh network namespace, times our real syncs side by side with
 * {@code iptables-restore} of the very same payloads (same binary, same argv, same runner, same
 * starting rules), and prints one table. Needs root (ip netns). See docs/BENCHMARKS.md.
 *
 * <p>Fairness: the baseline replays the payload our sync just restored. "Onto empty" means
 * both start right after our {@code cleanup()} removed every KUBE-* chain; "re-sync" means
 * both run onto the full rule set already in place (a restarted proxy, or the hourly full
 * sync); "partial" replays the partial payload onto the rules it was made for.
 *
 * <p>Threads: everything runs on the main thread, so per-thread allocation counts our work
 * (the short-lived pipe threads of the process runner are not counted).
 */
public final class ScaleBenchmark {

    private final Options options;
    private final Cluster cluster;
    private final ChangeTracker tracker = Cluster.newTracker();
    private final Map<Integer, Integer> versions = new HashMap<>();
    private final Results results = new Results();
    private ProxySnapshot snapshot;
    /** The backend a running proxy would hold now; kept reachable for the heap figure. */
    private IptablesBackend live;

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
        buildSnapshot();
        inProcess();
        if (!options.skipKernel) {
            Path copy = Files.createTempFile("ferry-bench-restore-", ".txt");
            try (NetNs ns = NetNs.create(options.legacy)) {
                inKernel(ns, copy);
            } finally {
                Files.deleteIfExists(copy);
            }
        }
        // What a running proxy keeps: tracker, snapshot and the last backend that synced.
        results.heapAfterGc = Meter.heapUsedAfterGc();
        java.lang.ref.Reference.reachabilityFence(live);
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
        CannedKernel counting = CannedKernel.countingLines();
        check(Backends.inProcess(counting).sync(snapshot), "sizing sync");
        results.fullPayloadBytes = counting.lastRestoreBytes();
        results.fullPayloadLines = counting.lastRestoreLines();

        for (int i = 0; i < options.warmup + options.reps; i++) {
            boolean measure = i >= options.warmup;
            IptablesBackend fresh = Backends.inProcess(CannedKernel.empty());
            SyncResult r = timed(fresh, snapshot, measure ? results.genFull : null,
                    measure ? results.genFullAlloc : null);
            results.genFullWasPartial |= !r.full();
        }
        IptablesBackend longLived = Backends.inProcessAlwaysFull(CannedKernel.empty());
        for (int i = 0; i < options.warmup + options.reps; i++) {
            boolean measure = i >= options.warmup;
            SyncResult r = timed(longLived, snapshot, measure ? results.genFullReused : null,
                    measure ? results.genFullReusedAlloc : null);
            results.genFullWasPartial |= !r.full();
        }
        longLived = null; // a proxy has one backend per family: let this one go before the next
        // Partial: one Service's endpoint flips between two addresses; each sync is a real change.
        IptablesBackend partial = Backends.inProcess(CannedKernel.empty());
        live = partial;
        check(partial.sync(snapshot), "full sync before the partial ones");
        int k = cluster.services() / 2;
        for (int i = 0; i < options.warmup + options.reps; i++) {
            boolean measure = i >= options.warmup;
            ProxySnapshot next = changeOneEndpoint(k, i % 2 == 0 ? 1 : 0, measure);
            SyncResult r = timed(partial, next, measure ? results.genPartial : null,
                    measure ? results.genPartialAlloc : null);
            results.genPartialWasFull |= r.full();
        }
        // The kernel rounds start with full syncs of the tracker's current state.
        snapshot = tracker.snapshot();
    }

    /**
     * Real syncs in the namespace, each next to iptables-restore of the same payload. A failed
     * sync (e.g. out of memory under the heap cap) is recorded; a failed full sync onto empty
     * tables or partial sync ends the kernel rounds, a failed re-sync is not tried again.
     */
    private void inKernel(NetNs ns, Path copy) throws IOException {
        RecordingRunner rec = new RecordingRunner(ns.runner, copy);
        for (int i = 0; i < options.warmup + options.reps; i++) {
            boolean m = i >= options.warmup;
            System.err.printf("kernel round %d/%d%s%n", i + 1, options.warmup + options.reps, m ? "" : " (warm-up)");

            ns.flushAll();
            live = null; // the previous round's backend is gone, as after a proxy restart
            IptablesBackend first = Backends.inNamespace(rec);
            live = first;
            if (!kernelSync(first, snapshot, rec, results.empty, m)) {
                return;
            }
            ns.flushAll();
            replay(ns.runner, rec, m ? results.empty : null);
            if (i == 0) {
                results.natRulesInKernel = countNatRules(ns);
            }

            // The rules in place are the full set the first backend wrote (replayed): its next
            // sync after one endpoint change is a partial one.
            ProxySnapshot next = changeOneEndpoint(cluster.services() / 3, i + 2, m);
            if (!kernelSync(first, next, rec, results.partial, m)) {
                return;
            }
            replay(ns.runner, rec, m ? results.partial : null);
            snapshot = next;

            // A restarted proxy: a new backend's full sync onto everything in place. It reads
            // the tables first; if that fails (e.g. out of memory under the cap), later rounds
            // still measure the other two kinds.
            first = null; // restarted: the old backend is gone
            live = null;
            if (results.resync.failure == null) {
                IptablesBackend restarted = Backends.inNamespace(rec);
                if (kernelSync(restarted, snapshot, rec, results.resync, m)) {
                    live = restarted;
                    replay(ns.runner, rec, m ? results.resync : null);
                }
            }
        }
    }

    /** One real sync; false (with the failure recorded) when it failed. */
    private static boolean kernelSync(IptablesBackend backend, ProxySnapshot snap, RecordingRunner rec,
                                      SyncSeries series, boolean measure) {
        rec.reset();
        Meter.heapUsedAfterGc(); // start each sync from a collected heap, so its peak is its own
        Meter.resetPeaks();
        long a0 = Meter.allocatedBytes();
        long t0 = System.nanoTime();
        SyncResult r = backend.sync(snap);
        long took = System.nanoTime() - t0;
        long allocated = Meter.allocatedBytes() - a0;
        long peak = Meter.heapPeakUpperBound();
        if (!r.ok()) {
            series.failure = r.error();
            System.err.println("sync failed: " + r.error());
            return false;
        }
        if (rec.restores() != 1) {
            throw new IllegalStateException("expected one restore per sync, saw " + rec.restores());
        }
        if (measure) {
            series.wall.add(took - rec.copyNanos());
            series.save.add(rec.saveNanos());
            series.restore.add(rec.restoreNanos() - rec.copyNanos());
            series.other.add(rec.otherNanos());
            series.copy.add(rec.copyNanos());
            series.allocated.add(allocated);
            series.heapPeak.add(peak);
            series.sawFull |= r.full();
            series.sawPartial |= !r.full();
        }
        return true;
    }

    /** iptables-restore of the payload the last sync restored, alone, with the same argv. */
    private static void replay(CommandRunner runner, RecordingRunner rec, SyncSeries series) throws IOException {
        List<String> argv = rec.lastRestoreArgv();
        Path input = rec.lastRestoreInput();
        long t0 = System.nanoTime();
        CommandRunner.Result r = runner.runStreaming(argv, out -> Files.copy(input, out));
        long took = System.nanoTime() - t0;
        if (!r.ok()) {
            throw new IOException("baseline " + String.join(" ", argv) + " exited " + r.exitCode() + ": "
                    + r.stderr().strip());
        }
        if (series != null) {
            series.baseline.add(took);
            series.lastPayloadBytes = Files.size(input);
        }
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

    private static SyncResult timed(IptablesBackend backend, ProxySnapshot snap, Samples time, Samples alloc) {
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

    private static int countNatRules(NetNs ns) throws IOException {
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

    /** --services N --endpoints M --reps R --warmup W --no-kernel --legacy (iptables-legacy-*) */
    static final class Options {
        int services = 10_000;
        int endpoints = 10;
        int reps = 5;
        int warmup = 1;
        boolean skipKernel;
        boolean legacy;

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
                    case "--legacy" -> o.legacy = true;
                    default -> throw new IllegalArgumentException("unknown option " + a
                            + " (known: --services N --endpoints M --reps R --warmup W --no-kernel --legacy)");
                }
            }
            if (o.reps < 1 || o.warmup < 0) {
                throw new IllegalArgumentException("--reps must be >= 1 and --warmup >= 0");
            }
            return o;
        }
    }
}
