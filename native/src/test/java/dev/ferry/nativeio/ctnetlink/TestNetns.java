package dev.ferry.nativeio.ctnetlink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway pair of network namespaces for real-kernel tests: "node" (10.77.0.1/24,
 * fd77::1/64) and "peer" (10.77.0.2/24, fd77::2/64) joined by a veth pair. Commands run through
 * {@code ip netns exec} as argument lists. {@link #close()} deletes both namespaces.
 */
final class TestNetns implements AutoCloseable {

    static final String NODE_V4 = "10.77.0.1";
    static final String PEER_V4 = "10.77.0.2";
    static final String NODE_V6 = "fd77::1";
    static final String PEER_V6 = "fd77::2";

    final String node;
    final String peer;

    TestNetns() {
        String id = UUID.randomUUID().toString().substring(0, 8);
        node = "fy-" + id + "-node";
        peer = "fy-" + id + "-peer";
        try {
            run("ip", "netns", "add", node);
            run("ip", "netns", "add", peer);
            in(node, "ip", "link", "set", "lo", "up");
            in(peer, "ip", "link", "set", "lo", "up");
            in(node, "ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", peer);
            in(node, "ip", "addr", "add", NODE_V4 + "/24", "dev", "veth0");
            in(peer, "ip", "addr", "add", PEER_V4 + "/24", "dev", "veth1");
            in(node, "ip", "addr", "add", NODE_V6 + "/64", "dev", "veth0", "nodad");
            in(peer, "ip", "addr", "add", PEER_V6 + "/64", "dev", "veth1", "nodad");
            in(node, "ip", "link", "set", "veth0", "up");
            in(peer, "ip", "link", "set", "veth1", "up");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    Path nodeFile() {
        return Path.of("/run/netns", node);
    }

    String in(String ns, String... command) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        return run(argv.toArray(new String[0]));
    }

    /** Sends one datagram from the node namespace with a fixed source port. */
    void sendUdp(String destination, int port, int sourcePort) {
        boolean v6 = destination.contains(":");
        String target = v6 ? "UDP6-SENDTO:[" + destination + "]:" + port : "UDP4-SENDTO:" + destination + ":" + port;
        exec(List.of("ip", "netns", "exec", node, "socat", "-u", "STDIN", target + ",sourceport=" + sourcePort),
                "hello\n".getBytes(StandardCharsets.UTF_8));
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static String run(String... argv) {
        return exec(List.of(argv), null);
    }

    static String exec(List<String> argv, byte[] stdin) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            if (stdin != null) {
                p.getOutputStream().write(stdin);
            }
            p.getOutputStream().close();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + argv);
            }
            String text = out.toString(StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(argv + " exited with " + p.exitValue() + ": " + text);
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
        for (String ns : new String[] {node, peer}) {
            try {
                run("ip", "netns", "delete", ns);
            } catch (RuntimeException ignored) {
                // not created, or already gone
            }
        }
    }
}
