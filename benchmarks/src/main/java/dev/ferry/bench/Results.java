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
    final Samples genPartial = new Samples();
    final Samples genPartialAlloc = new Samples();
    final Samples syncEmpty = new Samples();
    final Samples syncEmptyAlloc = new Samples();
    final Samples syncEmptySave = new Samples();
    final Samples syncEmptyRestore = new Samples();
    final Samples baseEmpty = new Samples();
    final Samples syncResync = new Samples();
    final Samples syncResyncAlloc = new Samples();
    final Samples syncResyncSave = new Samples();
    final Samples syncResyncRestore = new Samples();
    final Samples baseResync = new Samples();
    final Samples syncPartial = new Samples();
    final Samples syncPartialAlloc = new Samples();
    final Samples syncPartialSave = new Samples();
    final Samples syncPartialRestore = new Samples();
    final Samples basePartial = new Samples();
    boolean genPartialWasFull;
    boolean syncPartialWasFull;
    long fullPayloadBytes;
    long fullPayloadLines;
    long partialPayloadBytes;
    int natRulesInKernel;
    long heapAfterGc;
    long heapPeak;
    private String loadAtStart;

    void header(ScaleBenchmark.Options o) {
        loadAtStart = loadAverage();
        System.err.printf("ScaleBenchmark: %d Services x %d endpoints, %d rounds after %d warm-up, max heap %s%n",
                o.services, o.endpoints, o.reps, o.warmup, mb(Meter.maxHeap()));
    }

    void print(PrintStream out) {
        out.println();
        out.printf("Machine: %d CPUs, JDK %s, max heap %s, load average at start %s, at end %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), mb(Meter.maxHeap()),
                loadAtStart, loadAverage());
        out.printf("Full payload: %,d lines, %s; nat rules in the kernel after a full sync: %,d; "
                + "partial payload: %s%n%n", fullPayloadLines, mb(fullPayloadBytes), natRulesInKernel,
                partialPayloadBytes == 0 ? "n/a" : mb(partialPayloadBytes));
        out.println("| measurement | median | min | compared with | ratio (median) | target | met |");
        out.println("|---|---|---|---|---|---|---|");
        row(out, "snapshot: first, whole cluster (ChangeTracker)", initialSnapshot, "", "", "", "");
        alloc(out, "  allocated", initialSnapshotAlloc);
        row(out, "snapshot: after one EndpointSlice change", changeSnapshot, "", "", "", "");
        alloc(out, "  allocated", changeSnapshotAlloc);
        speedup(out, "rule generation, full (no kernel)", genFull, UPSTREAM_FULL_MS);
        allocVsUpstream(out, "  allocated", genFullAlloc, UPSTREAM_FULL_MB);
        speedup(out, "rule generation, one endpoint changed" + (genPartialWasFull ? " (ran FULL)" : ""),
                genPartial, UPSTREAM_PARTIAL_MS);
        allocVsUpstream(out, "  allocated", genPartialAlloc, UPSTREAM_PARTIAL_MB);
        if (!syncEmpty.isEmpty()) {
            vsBaseline(out, "full sync onto empty tables (wall)", syncEmpty, baseEmpty);
            parts(out, syncEmptySave, syncEmptyRestore, syncEmpty, syncEmptyAlloc);
            row(out, "iptables-restore alone, onto empty tables", baseEmpty, "", "", "", "");
            vsBaseline(out, "full re-sync onto all rules in place (wall)", syncResync, baseResync);
            parts(out, syncResyncSave, syncResyncRestore, syncResync, syncResyncAlloc);
            row(out, "iptables-restore alone, onto all rules in place", baseResync, "", "", "", "");
            double share = ms(syncPartial.median()) / ms(syncResync.median());
            row(out, "partial sync, one endpoint changed (wall)" + (syncPartialWasFull ? " (ran FULL)" : ""),
                    syncPartial, "full re-sync", pct(share), "< 5 %", met(share < 0.05));
            double shareEmpty = ms(syncPartial.median()) / ms(syncEmpty.median());
            out.printf("| | | | full sync onto empty | %s | < 5 %% | %s |%n", pct(shareEmpty), met(shareEmpty < 0.05));
            parts(out, syncPartialSave, syncPartialRestore, syncPartial, syncPartialAlloc);
            double vsRestore = ms(syncPartial.median()) / ms(basePartial.median());
            row(out, "iptables-restore alone, the partial payload", basePartial, "partial sync / this",
                    String.format(Locale.ROOT, "%.2fx", vsRestore), "", "");
        }
        double heapMb = heapAfterGc / 1048576.0;
        out.printf("| heap used after GC (tracker, snapshot, backends) | %s | | -Xmx %s | | < 256 MB | %s |%n",
                mb(heapAfterGc), mb(Meter.maxHeap()), met(heapMb < HEAP_TARGET_MB));
        out.printf("| heap peak (sum of pool peaks, an upper bound) | %s | | | | | |%n", mb(heapPeak));
        out.println();
        out.println("Raw values (ms), in round order:");
        raw(out, "generation full", genFull);
        raw(out, "generation partial", genPartial);
        raw(out, "sync onto empty", syncEmpty);
        raw(out, "restore onto empty", baseEmpty);
        raw(out, "re-sync", syncResync);
        raw(out, "restore re-sync", baseResync);
        raw(out, "partial sync", syncPartial);
        raw(out, "restore partial", basePartial);
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

    /** Where a sync's wall time went: iptables-save, iptables-restore, and our JVM work. */
    private static void parts(PrintStream out, Samples save, Samples restore, Samples total, Samples alloc) {
        out.printf("|   of which iptables-save / iptables-restore / in the JVM | %s / %s / %s | | | | | |%n",
                msText(save.median()), msText(restore.median()),
                msText(Math.max(0, total.median() - save.median() - restore.median())));
        out.printf("|   allocated on the sync thread | %s | %s | | | | |%n", mb(alloc.median()), mb(alloc.min()));
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
