package dev.ferry.bench.footprint;

import dev.ferry.bench.Cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The footprint benchmark (issue 13): the proxy in its image, with the image's JVM options and the
 * DaemonSet's memory limit, side by side in one run at several cluster sizes, from the API (fabric8's
 * mock API server) and from --manifests: the time from the process's start to its first sync, the
 * resident size right after it and after an idle period, and the heap the JVM uses; then, at the
 * largest size, every proxy mode in every run mode (normal, --dry-run, --once), to show that none
 * runs out of memory. Prints Markdown tables with the targets. Not a test: nothing fails on a figure.
 *
 * <p>Each run is a container of its own (see {@link ProxyRun}): runs start one after the other,
 * each measured while the ones before idle, and stay up until their idle period is over. Needs
 * root (the proxy's /proc) and a Docker engine on this machine; builds the image from
 * deploy/Dockerfile first (deploy/image/build-base.sh must have built the base).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.ferry.bench.footprint.FootprintBenchmark \
 *     [--idle 10m] [--scales 100x10,1000x10,10000x10] [--image ferry-proxy:footprint] [--no-build]
 *     [--memory 512m | --memory none] [--iptables legacy|nft] [--no-matrix] [--java-options "-Xshare:off ..."]
 *     [--logs DIR]
 * </pre>
 */
public final class FootprintBenchmark {

    static final class Options {
        Duration idle = Duration.ofMinutes(10);
        List<int[]> scales = List.of(new int[] {100, 10}, new int[] {1000, 10}, new int[] {10_000, 10});
        String image = "ferry-proxy:footprint";
        boolean build = true;
        /** Docker's --memory; null: the DaemonSet's limit; "none": no limit. */
        String memory;
        boolean legacy = true;
        boolean matrix = true;
        /** FERRY_JAVA_OPTIONS: JVM options after the image's, for experiments; null: the image's alone. */
        String javaOptions;
        /** Where each run's log goes (one file per run), or null. */
        Path logs;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--idle" -> { o.idle = duration(v); i++; }
                    case "--scales" -> { o.scales = scales(v); i++; }
                    case "--image" -> { o.image = v; i++; }
                    case "--no-build" -> o.build = false;
                    case "--memory" -> { o.memory = v; i++; }
                    case "--iptables" -> {
                        if (!List.of("legacy", "nft").contains(v)) {
                            throw new IllegalArgumentException("--iptables: legacy or nft, got " + v);
                        }
                        o.legacy = v.equals("legacy");
                        i++;
                    }
                    case "--no-matrix" -> o.matrix = false;
                    case "--java-options" -> { o.javaOptions = v; i++; }
                    case "--logs" -> { o.logs = Path.of(v); i++; }
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (known: --idle 10m "
                            + "--scales 100x10,1000x10 --image NAME --no-build --memory 512Mi|none --iptables legacy|nft --no-matrix --java-options OPTS --logs DIR)");
                }
            }
            return o;
        }

        /** "10m", "90s", "1h". */
        static Duration duration(String v) {
            Matcher m = Pattern.compile("(\\d+)([smh])").matcher(v);
            if (!m.matches()) {
                throw new IllegalArgumentException("a duration such as 10m or 90s, got " + v);
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }

        static List<int[]> scales(String v) {
            List<int[]> out = new ArrayList<>();
            for (String s : v.split(",")) {
                String[] p = s.split("x");
                out.add(new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])});
            }
            return out;
        }
    }

    /** The first sync's limit: a 10,000-Service sync on a loaded machine takes a minute or two. */
    static final Duration SYNC_LIMIT = Duration.ofMinutes(15);

    /**
     * The mock API servers log each request at INFO (tens of thousands while they are filled, on
     * the machine being measured); held here because java.util.logging keeps its loggers weakly.
     */
    private static final java.util.logging.Logger MOCK_SERVER_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    private final Options o;
    private final Path repo;
    private final FootprintReport report;

    private FootprintBenchmark(Options o, Path repo) {
        this.o = o;
        this.repo = repo;
        this.report = new FootprintReport(o);
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
        if (!"0".equals(Docker.run(List.of("id", "-u"), 10))) {
            System.err.println("FootprintBenchmark needs root: it reads the proxy's /proc/PID/status");
            System.exit(2);
        }
        if (!Docker.available()) {
            System.err.println("FootprintBenchmark needs a Docker engine on this machine");
            System.exit(2);
        }
        new FootprintBenchmark(o, repositoryRoot()).run();
    }

    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("deploy/Dockerfile"))) {
                return p;
            }
        }
        throw new IllegalStateException("run from the repository (no deploy/Dockerfile above " + Path.of("").toAbsolutePath() + ")");
    }

    private void run() throws IOException {
        report.start();
        if (o.build) {
            System.err.println("building " + o.image + " from deploy/Dockerfile");
            Docker.run(900, "build", "-q", "-f", repo.resolve("deploy/Dockerfile").toString(), "-t", o.image, repo.toString());
        }
        String memory = o.memory == null ? DaemonSetLimits.memory(repo.resolve("deploy/daemonset.yaml")) : o.memory;
        report.image(o.image, memory);

        String network = "fy-footprint-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        Docker.run(60, "network", "create", network);
        Map<String, ClusterInputs> inputs = new LinkedHashMap<>();
        try {
            String gateway = Docker.run(30, "network", "inspect", network, "-f", "{{(index .IPAM.Config 0).Gateway}}");
            ProxyRun.Setting setting = new ProxyRun.Setting(o.image, memory.equals("none") ? null : memory, o.legacy,
                    o.javaOptions, network);
            for (int[] s : o.scales) {
                Instant t0 = Instant.now();
                ClusterInputs in = ClusterInputs.create(new Cluster(s[0], s[1]), gateway);
                inputs.put(s[0] + "x" + s[1], in);
                System.err.printf("inputs for %d x %d ready in %d s%n", s[0], s[1], Duration.between(t0, Instant.now()).toSeconds());
            }
            sideBySide(new ArrayList<>(inputs.values()), setting);
            if (o.matrix) {
                everyMode(inputs.values().stream().reduce((a, b) -> b).orElseThrow(), setting);
            }
        } finally {
            inputs.values().forEach(ClusterInputs::close);
            Docker.run(60, "network", "rm", network);
        }
        report.print(System.out);
    }

    /** Every size from both sources, iptables mode, started one after the other, idle together. */
    private void sideBySide(List<ClusterInputs> inputs, ProxyRun.Setting setting) {
        List<ProxyRun> runs = new ArrayList<>();
        Map<ProxyRun, Instant> synced = new LinkedHashMap<>();
        try {
            for (ClusterInputs in : inputs) {
                for (String source : List.of("api", "manifests")) {
                    ProxyRun run = ProxyRun.start(new ProxyRun.Spec(in, source, "iptables", "normal"), setting);
                    runs.add(run);
                    ProxyRun.Outcome outcome = run.awaitFirstSync(SYNC_LIMIT);
                    FootprintReport.Row row = report.row(run.spec);
                    row.outcome = outcome;
                    row.msToFirstSync = run.msToFirstSync();
                    row.afterSync = run.memory();
                    row.jvmAfterSync = JvmScrape.of(run);
                    System.err.printf("%s: %s, first sync after %d ms, RSS %d MB%n", run.spec.label(), outcome,
                            row.msToFirstSync, row.afterSync.rssKb() / 1024);
                    if (outcome == ProxyRun.Outcome.SYNCED) {
                        synced.put(run, Instant.now());
                    } else {
                        row.note = run.tail(40);
                        System.err.println("  its log ends:\n" + row.note);
                    }
                }
            }
            for (Map.Entry<ProxyRun, Instant> e : synced.entrySet()) {
                Duration left = Duration.between(Instant.now(), e.getValue().plus(o.idle));
                if (!left.isNegative()) {
                    System.err.printf("idle: %d s to go for %s%n", left.toSeconds(), e.getKey().spec.label());
                    ProxyRun.sleep(left); // the measurement is of an idle proxy: nothing to wait for but time
                }
                FootprintReport.Row row = report.row(e.getKey().spec);
                row.afterIdle = e.getKey().memory();
                row.jvmAfterIdle = JvmScrape.of(e.getKey());
                row.oom = e.getKey().outOfMemoryError() || e.getKey().oomKilled();
            }
        } finally {
            runs.forEach(this::saveLog);
            runs.forEach(ProxyRun::close);
        }
    }

    private void saveLog(ProxyRun run) {
        if (o.logs != null) {
            try {
                Files.createDirectories(o.logs);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            run.saveLog(o.logs.resolve(run.spec.label().replaceAll("[^A-Za-z0-9]+", "-") + ".log"));
        }
    }

    /** The largest size from --manifests in each mode and run mode: the first sync (or exit) and the peak RSS. */
    private void everyMode(ClusterInputs in, ProxyRun.Setting setting) {
        for (String mode : List.of("iptables", "ipvs", "userspace")) {
            for (String runMode : List.of("normal", "dry-run", "once")) {
                try (ProxyRun run = ProxyRun.start(new ProxyRun.Spec(in, "manifests", mode, runMode), setting)) {
                    FootprintReport.ModeRow row = report.modeRow(run.spec);
                    if (runMode.equals("once")) {
                        row.exitCode = run.awaitExit(SYNC_LIMIT);
                        row.outcome = row.exitCode == null ? ProxyRun.Outcome.TIMED_OUT : ProxyRun.Outcome.EXITED;
                    } else {
                        row.outcome = run.awaitFirstSync(SYNC_LIMIT);
                    }
                    row.msToFirstSync = run.msToFirstSync();
                    row.peakKb = run.peakSeenKb();
                    row.outOfMemoryError = run.outOfMemoryError();
                    row.oomKilled = run.oomKilled();
                    row.lastLines = run.tail(3);
                    System.err.printf("%s: %s, peak RSS %d MB%n", run.spec.label(), row.outcome, row.peakKb / 1024);
                    saveLog(run);
                }
            }
        }
    }
}
