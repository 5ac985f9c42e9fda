package dev.ferry.bench.footprint;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One run of the proxy in its image, as the DaemonSet runs it ({@code /usr/local/bin/kube-proxy}
 * with the image's JVM options) under the DaemonSet's memory limit, in a network namespace of its
 * own: a holder container owns the namespace (with a Kubernetes node's sysctls, and the kubelet's
 * hint chain in legacy iptables when the run uses that backend), the proxy's container joins it
 * with NET_ADMIN and NET_RAW. Memory is read from the host's /proc for the proxy's process (VmRSS,
 * VmHWM); the time to the first sync from Docker's own clock (the container's start, and the
 * timestamp Docker gave the log line of the first sync).
 *
 * <p>Threads: a daemon thread copies the container's log (docker logs -f) into {@link #lines};
 * everything else runs on the caller's thread.
 */
final class ProxyRun implements AutoCloseable {

    /** A Kubernetes node's values of what the proxy checks, so it has nothing to write (/proc/sys is read-only here). */
    private static final List<String> NODE_SYSCTLS = List.of("net.ipv4.conf.all.route_localnet=1",
            "net.ipv4.ip_forward=1", "net.ipv4.conf.all.arp_ignore=0", "net.ipv4.conf.all.arp_announce=0");

    /** What runs: the source ("api" or "manifests"), the proxy mode and the run mode ("normal", "dry-run", "once"). */
    record Spec(ClusterInputs inputs, String source, String mode, String runMode) {
        String label() {
            return inputs.cluster.services() + " x " + inputs.cluster.endpointsPerService() + ", " + source + ", " + mode
                    + (runMode.equals("normal") ? "" : ", --" + runMode);
        }
    }

    /** How the first sync ended, or how the run ended before one. */
    enum Outcome { SYNCED, SYNC_FAILED, EXITED, TIMED_OUT }

    final Spec spec;
    private final String name = "fy-footprint-" + UUID.randomUUID().toString().substring(0, 8);
    private final String holder = name + "-net";
    private final List<String> lines = new ArrayList<>();
    private Process logs;
    private Instant startedAt;
    private long pid;
    /** The highest VmHWM polled so far (kB). */
    private long peak;

    private ProxyRun(Spec spec) {
        this.spec = spec;
    }

    /**
     * How every run of one benchmark starts.
     *
     * @param image       the proxy's image
     * @param memoryLimit Docker's --memory value, or null for none
     * @param legacy      make the node's iptables backend legacy (the kubelet's hint chain)
     * @param javaOptions FERRY_JAVA_OPTIONS for the image's launcher (after the image's own), or null
     * @param network     the Docker network the runs' namespaces join (the mock API servers listen on its gateway)
     */
    record Setting(String image, String memoryLimit, boolean legacy, String javaOptions, String network) {
    }

    /** Starts the holder and the proxy's container. */
    static ProxyRun start(Spec spec, Setting setting) {
        ProxyRun run = new ProxyRun(spec);
        try {
            run.startContainers(setting);
            return run;
        } catch (RuntimeException e) {
            run.close();
            throw e;
        }
    }

    private void startContainers(Setting setting) {
        List<String> holderArgs = new ArrayList<>(List.of("run", "-d", "--name", holder, "--network", setting.network(),
                "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW"));
        NODE_SYSCTLS.forEach(s -> holderArgs.addAll(List.of("--sysctl", s)));
        holderArgs.addAll(List.of("--entrypoint", "sleep", setting.image(), "infinity"));
        Docker.run(120, holderArgs.toArray(String[]::new));
        if (setting.legacy()) {
            Docker.run(60, "exec", holder, "iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT");
        }

        List<String> args = new ArrayList<>(List.of("run", "-d", "--name", name, "--network", "container:" + holder,
                "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW"));
        if (setting.memoryLimit() != null) {
            args.addAll(List.of("--memory", setting.memoryLimit(), "--memory-swap", setting.memoryLimit()));
        }
        if (setting.javaOptions() != null) {
            args.addAll(List.of("-e", "FERRY_JAVA_OPTIONS=" + setting.javaOptions()));
        }
        ClusterInputs in = spec.inputs();
        args.addAll(List.of("-v", in.manifests + ":/manifests:ro", "-v", in.kubeconfig + ":/etc/ferry/kubeconfig:ro"));
        args.addAll(List.of("--entrypoint", "sh", setting.image(), "-c",
                // the payloads of --dry-run go nowhere (a node's log would not hold them either); the proxy's log is stderr
                "exec /usr/local/bin/kube-proxy \"$@\"" + (spec.runMode().equals("dry-run") ? " >/dev/null" : ""),
                "kube-proxy"));
        args.addAll(proxyArgs());
        Docker.run(120, args.toArray(String[]::new));
        startedAt = Instant.parse(Docker.inspect(name, "{{.State.StartedAt}}"));
        pid = Long.parseLong(Docker.inspect(name, "{{.State.Pid}}"));
        followLog();
    }

    private List<String> proxyArgs() {
        List<String> a = new ArrayList<>(List.of("--hostname-override=" + dev.ferry.bench.Cluster.NODE,
                "--proxy-mode=" + spec.mode(), "--metrics-bind-address=0.0.0.0:10249"));
        a.add(spec.source().equals("api") ? "--kubeconfig=/etc/ferry/kubeconfig" : "--manifests=/manifests");
        if (!spec.runMode().equals("normal")) {
            a.add("--" + spec.runMode());
        }
        return a;
    }

    private void followLog() {
        try {
            logs = new ProcessBuilder("docker", "logs", "-f", "--timestamps", name).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(logs.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the follower was stopped
            }
        }, name + "-log");
        t.setDaemon(true);
        t.start();
    }

    /** The first line at or after {@code from} that reports a sync's end, or null. */
    private String syncLine(int from) {
        synchronized (lines) {
            for (int i = from; i < lines.size(); i++) {
                String l = lines.get(i);
                if (l.contains(" sync complete") || l.contains(" sync failed after ")) {
                    return l;
                }
            }
            return null;
        }
    }

    /** Waits for the first sync's log line, the container's end, or {@code limit}; polls memory meanwhile. */
    Outcome awaitFirstSync(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            String line = syncLine(0);
            if (line != null) {
                return line.contains(" sync complete") ? Outcome.SYNCED : Outcome.SYNC_FAILED;
            }
            if (!running()) {
                return Outcome.EXITED;
            }
            peak = Math.max(peak, memory().hwmKb());
            synchronized (lines) {
                try {
                    lines.wait(200); // woken by each new line; the timeout re-checks the container and memory
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        }
        return Outcome.TIMED_OUT;
    }

    /** Waits for the container to exit (--once), polling the peak resident size; the exit code, or null on timeout. */
    Integer awaitExit(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (!running()) {
                return Integer.parseInt(Docker.inspect(name, "{{.State.ExitCode}}"));
            }
            peak = Math.max(peak, memory().hwmKb());
            sleep(Duration.ofMillis(100));
        }
        return null;
    }

    /** The highest VmHWM seen while waiting (kB): the peak resident size of a process that has exited since. */
    long peakSeenKb() {
        return Math.max(peak, memory().hwmKb());
    }

    /** Milliseconds from the container's start to the log line of the first sync, or -1. */
    long msToFirstSync() {
        String line = syncLine(0);
        if (line == null) {
            return -1;
        }
        Instant logged = Instant.parse(line.substring(0, line.indexOf(' ')));
        return Duration.between(startedAt, logged).toMillis();
    }

    boolean running() {
        return Boolean.parseBoolean(Docker.inspect(name, "{{.State.Running}}"));
    }

    boolean oomKilled() {
        return Boolean.parseBoolean(Docker.inspect(name, "{{.State.OOMKilled}}"));
    }

    /** True when the log reports a Java OutOfMemoryError. */
    boolean outOfMemoryError() {
        synchronized (lines) {
            return lines.stream().anyMatch(l -> l.contains("OutOfMemoryError"));
        }
    }

    /** The last lines of the container's log. */
    String tail(int n) {
        synchronized (lines) {
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        }
    }

    /** The address of the run's network namespace (its metrics server answers there). */
    String address() {
        return Docker.inspect(holder, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
    }

    /** VmRSS and VmHWM of the proxy's process in kB; zeros once it has exited. */
    record Memory(long rssKb, long hwmKb) {
    }

    Memory memory() {
        try {
            long rss = 0;
            long hwm = 0;
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (l.startsWith("VmRSS:")) {
                    rss = kb(l);
                } else if (l.startsWith("VmHWM:")) {
                    hwm = kb(l);
                }
            }
            return new Memory(rss, hwm);
        } catch (IOException e) {
            return new Memory(0, 0); // exited
        }
    }

    private static long kb(String statusLine) {
        return Long.parseLong(statusLine.replaceAll("[^0-9]", ""));
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Writes the container's log so far to {@code file}. */
    void saveLog(Path file) {
        synchronized (lines) {
            try {
                Files.write(file, lines, StandardCharsets.UTF_8);
            } catch (IOException e) {
                System.err.println("could not write " + file + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        if (logs != null) {
            logs.destroy();
        }
        Docker.removeQuietly(name);
        Docker.removeQuietly(holder);
    }
}
