package dev.ferry.proxy.conntrack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Three throwaway namespaces for the UDP conntrack test: "client" (10.10.0.2) routes through
 * "node" (10.10.0.1 / 10.244.0.1, forwarding, where our rules and conntrack live) to "pods",
 * where each endpoint is an address with a socat UDP server bound to it, writing what it
 * receives to a file. {@link #close()} stops every process and deletes the namespaces.
 */
final class UdpTopology implements AutoCloseable {

    static final String CLIENT_IP = "10.10.0.2";
    static final String NODE_IP = "10.10.0.1";

    final String client;
    final String node;
    final String pods;
    private final List<Process> processes = new ArrayList<>();
    private final Path dir;
    private Process sender;

    UdpTopology() throws IOException {
        String id = UUID.randomUUID().toString().substring(0, 8);
        client = "fy-" + id + "-client";
        node = "fy-" + id + "-node";
        pods = "fy-" + id + "-pods";
        dir = Files.createTempDirectory("fy-conntrack-");
        try {
            for (String ns : List.of(client, node, pods)) {
                run("ip", "netns", "add", ns);
                in(ns, "ip", "link", "set", "lo", "up");
            }
            in(node, "ip", "link", "add", "c0", "type", "veth", "peer", "name", "c1", "netns", client);
            in(node, "ip", "link", "add", "p0", "type", "veth", "peer", "name", "p1", "netns", pods);
            in(node, "ip", "addr", "add", NODE_IP + "/24", "dev", "c0");
            in(node, "ip", "addr", "add", "10.244.0.1/24", "dev", "p0");
            in(client, "ip", "addr", "add", CLIENT_IP + "/24", "dev", "c1");
            in(node, "ip", "link", "set", "c0", "up");
            in(node, "ip", "link", "set", "p0", "up");
            in(client, "ip", "link", "set", "c1", "up");
            in(pods, "ip", "link", "set", "p1", "up");
            in(client, "ip", "route", "add", "default", "via", NODE_IP);
            in(node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
            // Endpoints are addresses of one link; removing the first must not take the others with it.
            in(pods, "sysctl", "-q", "-w", "net.ipv4.conf.p1.promote_secondaries=1");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    Path nodeFile() {
        return Path.of("/run/netns", node);
    }

    /** An endpoint: its address in "pods" and a UDP server on it; returns the file it writes to. */
    Path startEndpoint(String ip, int port) throws IOException {
        in(pods, "ip", "addr", "add", ip + "/24", "dev", "p1");
        if (!in(pods, "ip", "route", "show", "default").contains("default")) {
            in(pods, "ip", "route", "add", "default", "via", "10.244.0.1");
        }
        Path out = dir.resolve(ip + ".received");
        Process p = new ProcessBuilder("ip", "netns", "exec", pods, "socat", "-u",
                "UDP4-RECV:" + port + ",bind=" + ip, "STDOUT")
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return out;
    }

    /** The endpoint's pod is gone: its address too, so nothing answers for it any more. */
    void removeEndpointAddress(String ip) {
        in(pods, "ip", "addr", "del", ip + "/24", "dev", "p1");
    }

    /** A client socket with a fixed source port, kept open: every {@link #send} is one datagram from it. */
    void startSender(String serviceIp, int port, int sourcePort) throws IOException {
        sender = new ProcessBuilder("ip", "netns", "exec", client, "socat", "-u", "STDIN",
                "UDP4-SENDTO:" + serviceIp + ":" + port + ",sourceport=" + sourcePort)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(sender);
    }

    /** For failure messages: whether the client still runs, and the node's UDP flows. */
    String describe() {
        return "sender " + (sender != null && sender.isAlive() ? "running" : "exited") + "; node flows:\n" + conntrackList();
    }

    void send(String text) {
        try {
            OutputStream os = sender.getOutputStream();
            os.write((text + "\n").getBytes(StandardCharsets.UTF_8));
            os.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("the sender died", e);
        }
    }

    /**
     * Sends a numbered datagram, then checks {@code condition}, until it holds or {@code timeout}
     * passes (the client keeps sending all along, as a statsd-like client does).
     *
     * @return whether the condition held
     */
    boolean sendUntil(String tag, BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int n = 0;
        while (System.nanoTime() < deadline) {
            send(tag + "-" + n++);
            if (waitFor(condition, Duration.ofMillis(100))) {
                return true;
            }
        }
        return false;
    }

    /** Polls {@code condition} every 10 ms for at most {@code timeout}. */
    static boolean waitFor(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(10); // poll interval, not synchronisation
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        } while (System.nanoTime() < deadline);
        return condition.getAsBoolean();
    }

    static boolean contains(Path file, String text) {
        try {
            return Files.exists(file) && Files.readString(file).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** conntrack(8) in the node namespace (test tooling only; the proxy uses netlink). */
    String conntrackList() {
        return in(node, "conntrack", "-L", "-p", "udp");
    }

    String in(String ns, String... command) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        return run(argv.toArray(new String[0]));
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static String run(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            p.getOutputStream().close();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", argv));
            }
            String text = out.toString(StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", argv) + " exited with " + p.exitValue() + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String ns : new String[] {client, node, pods}) {
            try {
                run("ip", "netns", "delete", ns);
            } catch (RuntimeException ignored) {
                // not created
            }
        }
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // temp files only
        }
    }
}
