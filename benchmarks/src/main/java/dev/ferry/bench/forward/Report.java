package dev.ferry.bench.forward;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** ForwarderBenchmark's output: the machine, then Markdown tables (medians over the rounds), then every round's values. */
final class Report {

    /** Issue 4's targets. */
    static final double BULK_TARGET = 0.9;

    private final ForwarderBenchmark.Options o;
    private String loadAtStart;

    Report(ForwarderBenchmark.Options o) {
        this.o = o;
    }

    void start() {
        loadAtStart = loadAverage();
    }

    void print(PrintStream out, Map<String, Route> routes, Map<String, ForwarderBenchmark.Figures> figures) {
        out.println();
        out.printf(Locale.ROOT, "Machine: %d CPUs (%s), kernel %s, JDK %s; %s; %s; %s%n", Runtime.getRuntime().availableProcessors(),
                cpuModel(), firstLine(Path.of("/proc/sys/kernel/osrelease")), System.getProperty("java.version"),
                version(List.of("haproxy", "-v")), version(List.of("wrk", "-v")), version(List.of("iperf3", "-v")));
        out.printf(Locale.ROOT, "Placement: %s. Load average at start %s, at end %s.%n", o.placement(), loadAtStart, loadAverage());
        out.printf(Locale.ROOT, "Bulk: iperf3 -P 4 -n %d GiB and -P 1 -n %d GiB (%d GiB per connection), the receiver's rate. "
                        + "Requests: wrk -c %d -t %d -d %ds against a 100-byte HTTP response, keep-alive, and with "
                        + "\"Connection: close\" (a new connection per request). Median of %d rounds after a warm-up.%n%n",
                4 * o.gib, o.gib, o.gib, o.connections, o.threads, o.seconds, o.rounds);

        ForwarderBenchmark.Figures direct = figures.get("direct");
        out.println("| path | bulk, 4 connections | x direct | bulk, 1 connection | x direct | requests/s, keep-alive | x direct | requests/s, new connections | x direct |");
        out.println("|---|---|---|---|---|---|---|---|---|");
        for (Map.Entry<String, ForwarderBenchmark.Figures> e : figures.entrySet()) {
            ForwarderBenchmark.Figures f = e.getValue();
            out.printf(Locale.ROOT, "| %s | %.1f Gbit/s | %s | %.1f Gbit/s | %s | %,.0f | %s | %,.0f | %s |%n", routes.get(e.getKey()).label(),
                    median(f.bulkMulti), ratio(f, direct, x -> x.bulkMulti), median(f.bulkSingle), ratio(f, direct, x -> x.bulkSingle),
                    median(f.rpsKeepAlive), ratio(f, direct, x -> x.rpsKeepAlive), median(f.rpsNewConn), ratio(f, direct, x -> x.rpsNewConn));
        }
        out.println();

        List<String> ours = figures.keySet().stream().filter(k -> k.startsWith("ferry")).toList();
        List<String> haproxies = figures.keySet().stream().filter(k -> k.startsWith("haproxy")).toList();
        if (!ours.isEmpty()) {
            out.println("| target | path | figure | met |");
            out.println("|---|---|---|---|");
            for (String k : ours) {
                ForwarderBenchmark.Figures f = figures.get(k);
                String label = routes.get(k).label();
                if (direct != null) {
                    target(out, "bulk, 4 connections, >= 0.9x direct", label, f, direct, x -> x.bulkMulti, BULK_TARGET);
                    target(out, "bulk, 1 connection, >= 0.9x direct", label, f, direct, x -> x.bulkSingle, BULK_TARGET);
                }
                for (String h : haproxies) {
                    String hl = routes.get(h).label();
                    target(out, "requests/s keep-alive >= " + hl, label, f, figures.get(h), x -> x.rpsKeepAlive, 1.0);
                    target(out, "requests/s new connections >= " + hl, label, f, figures.get(h), x -> x.rpsNewConn, 1.0);
                }
            }
            out.println();
        }

        out.println("| path | wrk p99 latency, keep-alive | wrk p99, new connections | forwarder CPU (% of one CPU): bulk x4 / bulk x1 / keep-alive / new connections |");
        out.println("|---|---|---|---|");
        for (Map.Entry<String, ForwarderBenchmark.Figures> e : figures.entrySet()) {
            ForwarderBenchmark.Figures f = e.getValue();
            // socat's forks count only once reaped (their connection closed), so its figures would mislead
            String cpu = e.getKey().equals("direct") ? "-" : e.getKey().equals("socat") ? "n/a (a process per connection)" : f.cpu.values().stream()
                    .map(v -> String.format(Locale.ROOT, "%.0f", median(v))).collect(Collectors.joining(" / "));
            out.printf(Locale.ROOT, "| %s | %s | %s | %s |%n", routes.get(e.getKey()).label(), latency(median(f.p99KeepAlive)),
                    latency(median(f.p99NewConn)), cpu);
        }
        out.println();

        out.println("Raw values, in round order:");
        for (Map.Entry<String, ForwarderBenchmark.Figures> e : figures.entrySet()) {
            ForwarderBenchmark.Figures f = e.getValue();
            out.printf(Locale.ROOT, "- %s: bulk x4 %s Gbit/s; bulk x1 %s Gbit/s; keep-alive %s req/s; new connections %s req/s%s%n",
                    e.getKey(), list(f.bulkMulti, "%.1f"), list(f.bulkSingle, "%.1f"), list(f.rpsKeepAlive, "%.0f"),
                    list(f.rpsNewConn, "%.0f"), f.errors.isEmpty() ? "" : "; wrk errors: " + String.join(", ", f.errors));
        }
    }

    private static void target(PrintStream out, String what, String label, ForwarderBenchmark.Figures f,
                               ForwarderBenchmark.Figures base, Function<ForwarderBenchmark.Figures, List<Double>> m, double min) {
        double r = median(m.apply(f)) / median(m.apply(base));
        out.printf(Locale.ROOT, "| %s | %s | %.3fx | %s |%n", what, label, r, r >= min ? "yes" : "**no**");
    }

    private static String ratio(ForwarderBenchmark.Figures f, ForwarderBenchmark.Figures base,
                                Function<ForwarderBenchmark.Figures, List<Double>> m) {
        return base == null ? "n/a" : String.format(Locale.ROOT, "%.2f", median(m.apply(f)) / median(m.apply(base)));
    }

    static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static String latency(double micros) {
        return Double.isNaN(micros) ? "n/a" : micros >= 1000 ? String.format(Locale.ROOT, "%.2f ms", micros / 1000)
                : String.format(Locale.ROOT, "%.0f us", micros);
    }

    private static String list(List<Double> values, String format) {
        return values.stream().map(v -> String.format(Locale.ROOT, format, v)).collect(Collectors.joining(", "));
    }

    static String loadAverage() {
        String s = firstLine(Path.of("/proc/loadavg"));
        String[] f = s.split(" ");
        return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : s;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    private static String firstLine(Path p) {
        try {
            return Files.readAllLines(p).get(0).trim();
        } catch (IOException | IndexOutOfBoundsException e) {
            return "?";
        }
    }

    private static String version(List<String> argv) {
        try {
            return Procs.run(null, argv, 10).lines().findFirst().orElse("?").trim();
        } catch (RuntimeException e) {
            // wrk -v exits 1 after printing its version
            String m = e.getMessage();
            int nl = m.indexOf('\n');
            return nl < 0 ? "?" : m.substring(nl + 1).lines().findFirst().orElse("?").trim();
        }
    }
}
