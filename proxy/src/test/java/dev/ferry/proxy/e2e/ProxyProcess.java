package dev.ferry.proxy.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The built daemon ({@code proxy/target/proxy.jar}, passed by failsafe) run inside a namespace. */
final class ProxyProcess {
    static final String NODE_NAME = "fy-node";

    private ProxyProcess() {
    }

    static Path jar() {
        String prop = System.getProperty("ferry.proxyJar");
        if (prop == null || prop.isBlank()) {
            throw new AssertionError("system property ferry.proxyJar is not set (failsafe sets it to proxy/target/proxy.jar)");
        }
        Path jar = Path.of(prop);
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("the proxy jar " + jar + " does not exist; run `mvn -pl proxy verify`");
        }
        return jar;
    }

    /** {@code java -jar proxy.jar} followed by {@code args}. */
    static List<String> command(List<String> args) {
        List<String> argv = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar().toString()));
        argv.addAll(args);
        return argv;
    }

    /** The flags every test uses, for the file source reading {@code manifests}. */
    static List<String> fileArgs(Path manifests, String... extra) {
        List<String> args = new ArrayList<>(List.of("--proxy-mode=iptables", "--manifests", manifests.toString()));
        args.addAll(commonArgs());
        args.addAll(List.of(extra));
        return args;
    }

    /** The flags every test uses, for the API source configured by {@code kubeconfig}. */
    static List<String> apiArgs(Path kubeconfig, String... extra) {
        List<String> args = new ArrayList<>(List.of("--proxy-mode=iptables", "--kubeconfig", kubeconfig.toString()));
        args.addAll(commonArgs());
        args.addAll(List.of(extra));
        return args;
    }

    private static List<String> commonArgs() {
        return List.of("--hostname-override", NODE_NAME, "--cluster-cidr", Topology.CLUSTER_CIDR,
                "--iptables-min-sync-period", "100ms", "--iptables-sync-period", "30s", "-v", "2");
    }

    /** Starts the daemon in {@code ns}; the topology kills it on close. */
    static Proc start(Topology topology, NetNs ns, List<String> args) {
        return topology.track(ns.start(command(args)));
    }

    /** Runs a one-shot invocation ({@code --once}, {@code --cleanup}, {@code --dry-run}) to completion. */
    static Proc.Result run(NetNs ns, List<String> args) {
        return ns.run(Duration.ofSeconds(60), command(args));
    }

    private static final java.util.regex.Pattern ENTRY_START = java.util.regex.Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ");

    /**
     * The daemon's log as entries: a line that does not start with a timestamp continues the
     * entry before it (an embedded iptables-restore error, a stack trace), joined with " | ".
     */
    static List<String> logEntries(List<String> lines) {
        List<String> entries = new ArrayList<>();
        for (String line : lines) {
            if (ENTRY_START.matcher(line).find() || entries.isEmpty()) {
                entries.add(line);
            } else {
                entries.set(entries.size() - 1, entries.get(entries.size() - 1) + " | " + line);
            }
        }
        return entries;
    }

    /** For failure messages: the tail of what the daemon logged. */
    static String logTail(Proc proxy) {
        List<String> lines = proxy.errLines();
        List<String> tail = lines.subList(Math.max(0, lines.size() - 40), lines.size());
        return "proxy " + (proxy.alive() ? "running" : "exited " + proxy.process().exitValue())
                + ", last log lines:\n  " + String.join("\n  ", tail);
    }
}
