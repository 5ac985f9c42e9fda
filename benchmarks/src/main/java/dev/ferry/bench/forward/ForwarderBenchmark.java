package dev.ferry.bench.forward;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The userspace forwarder benchmark (issue 4): in one run, side by side, bulk throughput (iperf3,
 * 4 connections and 1 connection, a fixed number of bytes per connection) and small-request rate
 * (wrk against a Netty HTTP backend on two ports, keep-alive and a new connection per request)
 * through each path: direct, our proxy (the real proxy.jar in userspace mode, and the forwarder
 * alone), HAProxy in tcp mode (nbthread 1 and its default) and socat. Prints one Markdown table
 * with the raw figures and the ratios to direct, one with ours against HAProxy, and the raw rounds.
 *
 * <p>Every program is a child process pinned with taskset by role (client, forwarder, backend), so
 * each path gets the same CPUs. All paths run at once on their own loopback addresses (idle ones
 * cost nothing) and each round measures every path in turn, so drift spreads over all of them.
 * Not a test: nothing here fails on a slow figure. Loopback only; nothing outside our own
 * processes is touched (the proxy runs unprivileged, so it binds its Service address directly).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.ferry.bench.forward.ForwarderBenchmark \
 *     [--rounds 3] [--gib 1] [--seconds 10] [--cpus 0,1,1 | --cpus none] [--paths direct,ferry,...]
 *     [--proxy-jar proxy/target/proxy.jar] [--keep]
 * </pre>
 */
public final class ForwarderBenchmark {

    static final class Options {
        int rounds = 3;
        long gib = 1;
        int seconds = 10;
        int connections = 50;
        int threads = 2;
        /** taskset lists for client, forwarder, backend; null = not pinned. */
        String clientCpus = "0";
        String proxyCpus = "1";
        String backendCpus = "1";
        boolean pinned = true;
        List<String> paths = Route.ALL;
        Path proxyJar = Path.of("proxy/target/proxy.jar");
        boolean keep;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--rounds" -> { o.rounds = Integer.parseInt(v); i++; }
                    case "--gib" -> { o.gib = Long.parseLong(v); i++; }
                    case "--seconds" -> { o.seconds = Integer.parseInt(v); i++; }
                    case "--paths" -> { o.paths = Arrays.asList(v.split(",")); o.paths.forEach(Route::ip); i++; }
                    case "--proxy-jar" -> { o.proxyJar = Path.of(v); i++; }
                    case "--keep" -> o.keep = true;
                    case "--cpus" -> {
                        i++;
                        if (v.equals("none")) {
                            o.pinned = false;
                            o.clientCpus = o.proxyCpus = o.backendCpus = null;
                        } else {
                            String[] c = v.split(",");
                            if (c.length != 3) {
                                throw new IllegalArgumentException("--cpus takes client,forwarder,backend (taskset lists) or none");
                            }
                            o.clientCpus = c[0];
                            o.proxyCpus = c[1];
                            o.backendCpus = c[2];
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            return o;
        }

        String placement() {
            return pinned ? "pinned with taskset: clients (iperf3 -c, wrk) on CPU " + clientCpus + ", forwarder on CPU " + proxyCpus
                    + ", backends (HTTP backend, iperf3 -s) on CPU " + backendCpus
                    : "not pinned: every process may run on both CPUs";
        }
    }

    /** One path's figures over the rounds. */
    static final class Figures {
        final List<Double> bulkMulti = new ArrayList<>();
        final List<Double> bulkSingle = new ArrayList<>();
        final List<Double> rpsKeepAlive = new ArrayList<>();
        final List<Double> rpsNewConn = new ArrayList<>();
        final List<Double> p99KeepAlive = new ArrayList<>();
        final List<Double> p99NewConn = new ArrayList<>();
        /** Forwarder CPU use in % of one CPU during each kind of load. */
        final Map<String, List<Double>> cpu = new LinkedHashMap<>();
        final List<String> errors = new ArrayList<>();
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        for (String tool : List.of("iperf3", "wrk", "haproxy", "socat", "taskset")) {
            if (Arrays.stream(System.getenv("PATH").split(":")).noneMatch(d -> Files.isExecutable(Path.of(d, tool)))) {
                throw new IllegalStateException(tool + " not found on PATH (apt-get install -y haproxy wrk iperf3 socat)");
            }
        }
        if (o.paths.contains("ferry") && !Files.isReadable(o.proxyJar)) {
            throw new IllegalArgumentException(o.proxyJar + " not found: build it (mvn -pl proxy package) or pass --proxy-jar");
        }
        Path dir = Files.createTempDirectory("fy-fwd-bench-");
        Report report = new Report(o);
        report.start();
        System.err.println("ForwarderBenchmark: " + o.placement() + "; run directory " + dir);
        try (Procs procs = new Procs(dir)) {
            Paths paths = new Paths(procs, dir, o.proxyCpus, o.proxyJar.toAbsolutePath());
            paths.startBackends(o.backendCpus, o.pinned ? cpuCount(o.backendCpus) : 2);
            Map<String, Route> routes = new LinkedHashMap<>();
            for (String key : o.paths) {
                routes.put(key, paths.start(key));
                System.err.println("ready: " + Paths.label(key));
            }
            long perStream = o.gib << 30;
            // warm-up, not counted: JIT for the JVMs, connection pools, page cache for the binaries
            for (Route r : routes.values()) {
                Load.iperf(o.clientCpus, r.bulk(), 1, perStream);
                Load.wrk(o.clientCpus, r.http(), o.connections, o.threads, 3, false);
                Load.wrk(o.clientCpus, r.http(), o.connections, o.threads, 3, true);
            }
            Map<String, Figures> figures = new LinkedHashMap<>();
            routes.keySet().forEach(k -> figures.put(k, new Figures()));
            for (int round = 0; round < o.rounds; round++) {
                for (Route r : routes.values()) {
                    Figures f = figures.get(r.key());
                    f.bulkMulti.add(measured(r, f, "bulk x4", () -> Load.iperf(o.clientCpus, r.bulk(), 4, perStream)) / 1e9);
                    f.bulkSingle.add(measured(r, f, "bulk x1", () -> Load.iperf(o.clientCpus, r.bulk(), 1, perStream)) / 1e9);
                    Load.WrkResult ka = measured(r, f, "keep-alive", () -> Load.wrk(o.clientCpus, r.http(), o.connections, o.threads, o.seconds, false));
                    Load.WrkResult nc = measured(r, f, "new conn", () -> Load.wrk(o.clientCpus, r.http(), o.connections, o.threads, o.seconds, true));
                    f.rpsKeepAlive.add(ka.requestsPerSecond());
                    f.p99KeepAlive.add(ka.p99Micros());
                    f.rpsNewConn.add(nc.requestsPerSecond());
                    f.p99NewConn.add(nc.p99Micros());
                    for (Load.WrkResult w : List.of(ka, nc)) {
                        if (!w.errors().isEmpty()) {
                            f.errors.add("round " + round + ": " + w.errors());
                        }
                    }
                    r.procs().forEach(Procs::checkAlive);
                    System.err.printf("round %d %-10s bulk x4 %.1f, x1 %.1f Gbit/s; keep-alive %.0f req/s; new conn %.0f req/s%n",
                            round, r.key(), last(f.bulkMulti), last(f.bulkSingle), ka.requestsPerSecond(), nc.requestsPerSecond());
                }
            }
            report.print(System.out, routes, figures);
        } finally {
            if (!o.keep) {
                deleteTree(dir);
            }
        }
    }

    interface Measure<T> {
        T run();
    }

    /** Runs one load and records the forwarder's CPU use during it (% of one CPU, from /proc/PID/stat). */
    private static <T> T measured(Route r, Figures f, String kind, Measure<T> load) {
        long ticks0 = r.cpuTicks();
        long t0 = System.nanoTime();
        T result = load.run();
        double seconds = (System.nanoTime() - t0) / 1e9;
        long ticks = r.cpuTicks() - ticks0;
        f.cpu.computeIfAbsent(kind, k -> new ArrayList<>()).add(r.procs().isEmpty() ? 0 : 100.0 * ticks / CLOCK_TICKS / seconds);
        return result;
    }

    /** USER_HZ: 100 on every Linux build we run on (x86_64, arm64). */
    static final double CLOCK_TICKS = 100;

    private static double last(List<Double> l) {
        return l.get(l.size() - 1);
    }

    static int cpuCount(String tasksetList) {
        int n = 0;
        for (String part : tasksetList.split(",")) {
            String[] range = part.split("-");
            n += range.length == 1 ? 1 : Integer.parseInt(range[1]) - Integer.parseInt(range[0]) + 1;
        }
        return n;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private ForwarderBenchmark() {
    }
}
