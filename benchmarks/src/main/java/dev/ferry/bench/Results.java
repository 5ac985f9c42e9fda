package dev.ferry.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Collectors;

/** What one ScaleBenchmark run measured, printed as one Markdown table with ratios and targets. */
final class Results {

    /** Upstream v1.28 iptables rule generation, 10,000 Services x 10 endpoints, 2 cores. */
    static final double UPSTREAM_FULL_MS = 450;
    static final double UPSTREAM_FULL_MB = 280;
    static final double UPSTREAM_PARTIAL_MS = 170;
    static final double UPSTREAM_PARTIAL_MB = 77;
    static final double HEAP_TARGET_MB = 256;

    final Samples initialSnapshot = new Samples();
    final Samples initialSnapshotAlloc = new Samples();
    final Samples changeSnapshot = new Samples();
    final Samples changeSnapshotAlloc = new Samples();
    final Samples genFull = new Samples();
    final Samples genFullAlloc = new Samples();
    final Samples genFullReused = new Samples();
    final Samples genFullReusedAlloc = new Samples();
    final Samples genPartial = new Samples();
    final Samples genPartialAlloc = new Samples();
    final SyncSeries empty = new SyncSeries();
    final SyncSeries resync = new SyncSeries();
    final SyncSeries partial = new SyncSeries();
    boolean genFullWasPartial;
    boolean genPartialWasFull;
    long fullPayloadBytes;
    long fullPayloadLines;
    int natRulesInKernel;
    long heapAfterGc;
    private String loadAtStart;
    private String iptables;

    void header(ScaleBenchmark.Options o) {
        loadAtStart = loadAverage();
        iptables = o.skipKernel ? "none" : o.legacy ? "iptables-legacy" : "iptables (nf_tables)";
        System.err.printf("ScaleBenchmark: %d Services x %d endpoints, %d rounds after %d warm-up, max heap %s%n",
                o.services, o.endpoints, o.reps, o.warmup, mb(Meter.maxHeap()));
    }

    void print(PrintStream out) {
        out.println();
        out.printf("Machine: %d CPUs, JDK %s, max heap %s, load average at start %s, at end %s; kernel side: %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), mb(Meter.maxHeap()),
                loadAtStart, loadAverage(), iptables);
        out.printf("Full payload: %,d lines, %s; nat rules in the kernel after a full sync: %,d; "
                + "partial payload: %s%n%n", fullPayloadLines, mb(fullPayloadBytes), natRulesInKernel,
                partial.wall.isEmpty() ? "n/a" : mb(partial.lastPayloadBytes));
        out.println("| measurement | median | min | compared with | ratio (median) | target | met |");
        out.println("|---|---|---|---|---|---|---|");
        row(out, "snapshot: first, whole cluster (ChangeTracker)", initialSnapshot, "", "", "", "");
        alloc(out, "  allocated", initialSnapshotAlloc);
        row(out, "snapshot: after one EndpointSlice change", changeSnapshot, "", "", "", "");
        alloc(out, "  allocated", changeSnapshotAlloc);
        speedup(out, "rule generation, full, new backend (first sync; no kernel)"
                + (genFullWasPartial ? " (ran PARTIAL)" : ""), genFull, UPSTREAM_FULL_MS);
        allocVsUpstream(out, "  allocated", genFullAlloc, UPSTREAM_FULL_MB);
        speedup(out, "rule generation, full, long-lived backend (periodic full sync)", genFullReused,
                UPSTREAM_FULL_MS);
        allocVsUpstream(out, "  allocated", genFullReusedAlloc, UPSTREAM_FULL_MB);
        speedup(out, "rule generation, one endpoint changed" + (genPartialWasFull ? " (ran FULL)" : ""),
                genPartial, UPSTREAM_PARTIAL_MS);
        allocVsUpstream(out, "  allocated", genPartialAlloc, UPSTREAM_PARTIAL_MB);
        kernel(out, "full sync onto empty tables", empty, "onto empty tables");
        kernel(out, "full re-sync onto all rules in place", resync, "onto all rules in place");
        kernel(out, "partial sync, one endpoint changed", partial, "the partial payload");
        if (!partial.wall.isEmpty() && !resync.wall.isEmpty()) {
            double share = ms(partial.wall.median()) / ms(resync.wall.median());
            out.printf("| partial sync / full re-sync | %s | | | | < 5 %% | %s |%n", pct(share), met(share < 0.05));
        }
        if (!partial.wall.isEmpty() && !empty.wall.isEmpty()) {
            double shareEmpty = ms(partial.wall.median()) / ms(empty.wall.median());
            out.printf("| partial sync / full sync onto empty | %s | | | | < 5 %% | %s |%n", pct(shareEmpty),
                    met(shareEmpty < 0.05));
        }
        double heapMb = heapAfterGc / 1048576.0;
        out.printf("| heap used after GC (tracker, snapshot, the live backend) | %s | | -Xmx %s | | < 256 MB | %s |%n",
                mb(heapAfterGc), mb(Meter.maxHeap()), met(heapMb < HEAP_TARGET_MB));
        out.println();
        out.println("Raw values (ms), in round order:");
        raw(out, "generation full", genFull);
        raw(out, "generation full, long-lived backend", genFullReused);
        raw(out, "generation partial", genPartial);
        String[] names = {"full sync onto empty", "full re-sync", "partial sync"};
        SyncSeries[] series = {empty, resync, partial};
        for (int i = 0; i < names.length; i++) {
            raw(out, names[i] + " (wall)", series[i].wall);
            raw(out, names[i] + ": its restore", series[i].restore);
            raw(out, names[i] + ": harness side copy (taken off)", series[i].copy);
            raw(out, names[i] + ": iptables-restore alone", series[i].baseline);
        }
    }

    private static void row(PrintStream out, String what, Samples s, String vs, String ratio, String target,
                            String met) {
        out.printf("| %s | %s | %s | %s | %s | %s | %s |%n", what, msText(s.median()), msText(s.min()), vs, ratio,
                target, met);
    }

    private static void alloc(PrintStream out, String what, Samples s) {
        out.printf("| %s | %s | %s | | | | |%n", what, mb(s.median()), mb(s.min()));
    }

    private static void speedup(PrintStream out, String what, Samples s, double upstreamMs) {
        double times = upstreamMs / ms(s.median());
        row(out, what, s, String.format(Locale.ROOT, "upstream %.0f ms", upstreamMs),
                String.format(Locale.ROOT, "%.1fx faster", times), ">= 2x faster", met(times >= 2));
    }

    private static void allocVsUpstream(PrintStream out, String what, Samples s, double upstreamMb) {
        double ratio = s.median() / 1048576.0 / upstreamMb;
        out.printf("| %s | %s | %s | upstream %.0f MB | %s | | |%n", what, mb(s.median()), mb(s.min()), upstreamMb,
                pct(ratio));
    }

    private static void vsBaseline(PrintStream out, String what, Samples ours, Samples base) {
        double ratio = ms(ours.median()) / ms(base.median());
        row(out, what, ours, "iptables-restore alone", String.format(Locale.ROOT, "%.2fx", ratio), "<= 1.2x",
                met(ratio <= 1.2));
    }

    /** One kind of real sync: its wall time against the baseline, then where the time went. */
    private static void kernel(PrintStream out, String what, SyncSeries s, String baselineWhat) {
        if (s.failure != null) {
            out.printf("| %s | **FAILED**: %s | | | | | **no** |%n", what,
                    s.failure.length() > 160 ? s.failure.substring(0, 160) + "…" : s.failure);
        }
        if (s.wall.isEmpty()) {
            return;
        }
        String kind = s.sawFull && s.sawPartial ? " (ran full AND partial)"
                : s.sawFull && what.startsWith("partial") ? " (ran FULL)" : "";
        double ratio = ms(s.wall.median()) / ms(s.baseline.median());
        boolean isPartial = what.startsWith("partial");
        row(out, what + " (wall)" + kind, s.wall, "iptables-restore alone",
                String.format(Locale.ROOT, "%.2fx", ratio), isPartial ? "" : "<= 1.2x", isPartial ? "" : met(ratio <= 1.2));
        out.printf("|   of which iptables-save / iptables-restore / other commands / in the JVM | %s / %s / %s / %s |"
                        + " | | | | |%n", msText(s.save.median()), msText(s.restore.median()),
                msText(s.other.median()), msText(s.jvmMedian()));
        out.printf("|   allocated on the sync thread | %s | %s | | | | |%n", mb(s.allocated.median()),
                mb(s.allocated.min()));
        long peak = s.heapPeak.values().stream().mapToLong(Long::longValue).max().orElse(0);
        out.printf("|   heap peak during the sync (max over rounds, upper bound) | %s | | -Xmx %s | | < 256 MB | %s |%n",
                mb(peak), mb(Meter.maxHeap()), met(peak / 1048576.0 < HEAP_TARGET_MB));
        row(out, "iptables-restore alone, " + baselineWhat, s.baseline, "", "", "", "");
    }

    private static void raw(PrintStream out, String what, Samples s) {
        if (!s.isEmpty()) {
            out.printf("- %s: %s%n", what,
                    s.values().stream().map(Results::msText).collect(Collectors.joining(", ")));
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static String msText(long nanos) {
        double ms = ms(nanos);
        return ms >= 100 ? String.format(Locale.ROOT, "%.0f ms", ms) : String.format(Locale.ROOT, "%.1f ms", ms);
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    private static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.1f %%", fraction * 100);
    }

    private static String met(boolean yes) {
        return yes ? "yes" : "**no**";
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
