package dev.ferry.bench.footprint;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** FootprintBenchmark's output: the run's setting, then Markdown tables, the targets last. */
final class FootprintReport {

    static final long RSS_100_TARGET_MB = 80;
    static final long RSS_10K_TARGET_MB = 400;
    static final long FIRST_SYNC_100_TARGET_MS = 1500;
    static final long IMAGE_TARGET_MB = 150;

    /** One size from one source, iptables mode, normal run. */
    static final class Row {
        final ProxyRun.Spec spec;
        ProxyRun.Outcome outcome;
        long msToFirstSync = -1;
        ProxyRun.Memory afterSync;
        ProxyRun.Memory afterIdle;
        JvmScrape jvmAfterSync;
        JvmScrape jvmAfterIdle;
        boolean oom;
        String note;

        Row(ProxyRun.Spec spec) {
            this.spec = spec;
        }

        /** The larger RSS of the two readings, in MB; -1 when there is none. */
        long rssMb() {
            long kb = Math.max(afterSync == null ? -1 : afterSync.rssKb(), afterIdle == null ? -1 : afterIdle.rssKb());
            return kb < 0 ? -1 : kb / 1024;
        }
    }

    /** One mode in one run mode at the largest size. */
    static final class ModeRow {
        final ProxyRun.Spec spec;
        ProxyRun.Outcome outcome;
        Integer exitCode;
        long msToFirstSync = -1;
        long peakKb;
        boolean outOfMemoryError;
        boolean oomKilled;
        String lastLines = "";

        ModeRow(ProxyRun.Spec spec) {
            this.spec = spec;
        }
    }

    private final FootprintBenchmark.Options o;
    private final Map<String, Row> rows = new LinkedHashMap<>();
    private final List<ModeRow> modeRows = new ArrayList<>();
    private String loadAtStart;
    private String image;
    private long imageBytes;
    private String memoryLimit;
    private String jvmOptions;
    private String javaVersion;

    FootprintReport(FootprintBenchmark.Options o) {
        this.o = o;
    }

    void start() {
        loadAtStart = loadAverage();
    }

    /** The image's size, JVM options and Java version, read from the image itself. */
    void image(String name, String memory) {
        image = name;
        memoryLimit = memory;
        imageBytes = Long.parseLong(Docker.inspect(name, "{{.Size}}"));
        jvmOptions = inImage(name, "grep -v '^#' /opt/ferry/jvm.options | tr '\\n' ' '");
        javaVersion = inImage(name, "java -version 2>&1 | head -2 | tail -1");
    }

    private static String inImage(String image, String script) {
        try {
            return Docker.run(120, "run", "--rm", "--entrypoint", "sh", image, "-c", script).strip();
        } catch (RuntimeException e) {
            return "(not readable: " + e.getMessage().lines().findFirst().orElse("") + ")";
        }
    }

    Row row(ProxyRun.Spec spec) {
        return rows.computeIfAbsent(spec.label(), k -> new Row(spec));
    }

    ModeRow modeRow(ProxyRun.Spec spec) {
        ModeRow r = new ModeRow(spec);
        modeRows.add(r);
        return r;
    }

    void print(PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "Machine: %d CPUs (%s), %s memory, kernel %s; Docker %s. Load average at start %s, at end %s.%n",
                Runtime.getRuntime().availableProcessors(), cpuModel(), memTotal(), firstLine(Path.of("/proc/sys/kernel/osrelease")),
                Docker.run(30, "version", "--format", "{{.Server.Version}}"), loadAtStart, loadAverage());
        out.printf(Locale.ROOT, "Image %s: %.1f MB (docker image inspect .Size); %s.%n", image, imageBytes / 1e6, javaVersion);
        out.printf(Locale.ROOT, "JVM options (the image's /opt/ferry/jvm.options): %s%s%n", jvmOptions,
                o.javaOptions == null ? "" : "; then FERRY_JAVA_OPTIONS: " + o.javaOptions);
        out.printf(Locale.ROOT, "Container memory limit: %s (the DaemonSet's unless --memory); iptables backend: %s; "
                + "idle period: %d s; iptables mode unless stated.%n%n", memoryLimit, o.legacy ? "legacy" : "nf_tables", o.idle.toSeconds());

        out.printf(Locale.ROOT, "| cluster | source | first sync after start | RSS after first sync | peak RSS | RSS after %s idle "
                + "| heap used / committed / max after idle | non-heap used | direct buffers | threads |%n", human(o.idle));
        out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (Row r : rows.values()) {
            JvmScrape j = r.jvmAfterIdle != null ? r.jvmAfterIdle : r.jvmAfterSync;
            out.printf(Locale.ROOT, "| %d x %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    r.spec.inputs().cluster.services(), r.spec.inputs().cluster.endpointsPerService(), r.spec.source(),
                    r.outcome == ProxyRun.Outcome.SYNCED ? ms(r.msToFirstSync) : r.outcome.toString(),
                    mb(r.afterSync == null ? -1 : r.afterSync.rssKb()),
                    mb(Math.max(r.afterSync == null ? -1 : r.afterSync.hwmKb(), r.afterIdle == null ? -1 : r.afterIdle.hwmKb())),
                    mb(r.afterIdle == null ? -1 : r.afterIdle.rssKb()),
                    j == null ? "" : String.format(Locale.ROOT, "%.0f / %.0f / %.0f MB", j.heapUsed() / 1048576,
                            j.heapCommitted() / 1048576, j.heapMax() / 1048576),
                    j == null ? "" : String.format(Locale.ROOT, "%.0f MB", j.nonHeapUsed() / 1048576),
                    j == null ? "" : String.format(Locale.ROOT, "%.1f MB", j.directUsed() / 1048576),
                    j == null ? "" : String.format(Locale.ROOT, "%.0f", j.threads()));
        }
        for (Row r : rows.values()) {
            if (r.note != null) {
                out.printf(Locale.ROOT, "%n%s: %s; its log ends:%n```%n%s%n```%n", r.spec.label(), r.outcome, r.note);
            }
        }
        out.println();

        if (!modeRows.isEmpty()) {
            out.println("| mode | run mode | outcome | first sync after start | peak RSS | OutOfMemoryError | OOM-killed | last log line |");
            out.println("|---|---|---|---|---|---|---|---|");
            for (ModeRow r : modeRows) {
                String outcome = r.exitCode != null ? "exit " + r.exitCode : r.outcome.toString();
                String last = r.lastLines.lines().reduce((a, b) -> b).orElse("").replace("|", "\\|");
                out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s |%n", r.spec.mode(), r.spec.runMode(), outcome,
                        r.msToFirstSync < 0 ? "" : ms(r.msToFirstSync), mb(r.peakKb), r.outOfMemoryError ? "**yes**" : "no",
                        r.oomKilled ? "**yes**" : "no", last.length() > 160 ? last.substring(0, 160) + "..." : last);
            }
            out.println();
        }

        out.println("| target | figure | met |");
        out.println("|---|---|---|");
        target(out, "RSS <= " + RSS_100_TARGET_MB + " MB at 100 Services", 100, r -> r.rssMb(), RSS_100_TARGET_MB, " MB");
        target(out, "RSS <= " + RSS_10K_TARGET_MB + " MB at 10,000 x 10", 10_000, r -> r.rssMb(), RSS_10K_TARGET_MB, " MB");
        target(out, "first sync <= 1.5 s after start at 100 Services", 100, r -> r.msToFirstSync, FIRST_SYNC_100_TARGET_MS, " ms");
        out.printf(Locale.ROOT, "| image <= %d MB | %.1f MB | %s |%n", IMAGE_TARGET_MB, imageBytes / 1e6,
                imageBytes / 1e6 <= IMAGE_TARGET_MB ? "yes" : "**no**");
        if (!modeRows.isEmpty()) {
            boolean none = modeRows.stream().noneMatch(r -> r.outOfMemoryError || r.oomKilled)
                    && rows.values().stream().noneMatch(r -> r.oom);
            out.printf(Locale.ROOT, "| no OutOfMemoryError at the largest size in any mode or run mode | %s | %s |%n",
                    none ? "none seen" : "see above", none ? "yes" : "**no**");
        }
        out.println();
    }

    private void target(PrintStream out, String what, int services, java.util.function.ToLongFunction<Row> figure, long limit,
                        String unit) {
        List<String> figures = new ArrayList<>();
        boolean met = true;
        boolean any = false;
        for (Row r : rows.values()) {
            if (r.spec.inputs().cluster.services() != services) {
                continue;
            }
            long v = r.outcome == ProxyRun.Outcome.SYNCED ? figure.applyAsLong(r) : -1;
            any = true;
            met &= v >= 0 && v <= limit;
            figures.add(r.spec.source() + ": " + (v < 0 ? "none" : v + unit));
        }
        if (any) {
            out.printf(Locale.ROOT, "| %s | %s | %s |%n", what, String.join(", ", figures), met ? "yes" : "**no**");
        }
    }

    private static String ms(long ms) {
        return ms < 0 ? "" : String.format(Locale.ROOT, "%.2f s", ms / 1000.0);
    }

    private static String mb(long kb) {
        return kb <= 0 ? "" : String.format(Locale.ROOT, "%.0f MB", kb / 1024.0);
    }

    private static String human(java.time.Duration d) {
        return d.toSeconds() % 60 == 0 ? d.toMinutes() + " min" : d.toSeconds() + " s";
    }

    static String loadAverage() {
        String l = firstLine(Path.of("/proc/loadavg"));
        String[] f = l.split(" ");
        return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : l;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    private static String memTotal() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                    .map(l -> String.format(Locale.ROOT, "%.0f GB", Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0))
                    .findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    private static String firstLine(Path p) {
        try {
            return Files.readAllLines(p).get(0).strip();
        } catch (IOException | IndexOutOfBoundsException e) {
            return "?";
        }
    }
}
