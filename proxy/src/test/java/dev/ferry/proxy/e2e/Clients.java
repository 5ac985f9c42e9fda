package dev.ferry.proxy.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/** Real clients (socat in a namespace) and the checks built on them. */
final class Clients {
    private Clients() {
    }

    /** One TCP connection (IPv4 or IPv6 by the address); the name servers answer with their name and close. */
    static Proc.Result tcp(NetNs from, String ip, int port) {
        return from.run(Duration.ofSeconds(10),
                List.of("socat", "-t3", "-T5", "-", tcpAddress(ip, port) + ",connect-timeout=3"));
    }

    /** One TCP connection from the local address {@code sourceIp} (a client with several addresses). */
    static Proc.Result tcpFrom(NetNs from, String sourceIp, String ip, int port) {
        return from.run(Duration.ofSeconds(10),
                List.of("socat", "-t3", "-T5", "-", tcpAddress(ip, port) + ",connect-timeout=3,bind=" + sourceIp));
    }

    /** A connection attempt that got no answer at all (dropped), as opposed to an answer or a refusal. */
    static boolean timedOut(Proc.Result r) {
        return !r.ok() && r.out().isBlank() && !r.err().contains("Connection refused") && !r.err().contains("No route to host");
    }

    private static String tcpAddress(String ip, int port) {
        return ip.contains(":") ? "TCP6:[" + ip + "]:" + port : "TCP4:" + ip + ":" + port;
    }

    /**
     * One HTTP/1.1 GET over socat (no HTTP client tool needed), the connection closed after the
     * answer: the raw response with line ends as {@code \n}, status line first.
     */
    static Proc.Result httpGet(NetNs from, String ip, int port, String path) {
        String host = ip.contains(":") ? "[" + ip + "]" : ip;
        Proc.Result r = Proc.run(Duration.ofSeconds(10), from.argv("socat", "-t3", "-T5", "-",
                tcpAddress(ip, port) + ",connect-timeout=3"),
                "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nConnection: close\r\n\r\n");
        return new Proc.Result(r.argv(), r.exit(), r.out().replace("\r", ""), r.err());
    }

    /** One UDP datagram (from a fresh source port) and the reply, if any within 0.5 s. */
    static Proc.Result udp(NetNs from, String ip, int port) {
        return Proc.run(Duration.ofSeconds(10),
                from.argv("socat", "-t0.5", "-T2", "-", "UDP4:" + ip + ":" + port), "probe\n");
    }

    /** Whether an echo server at ip:port returns what we send. */
    static boolean tcpEchoOk(NetNs from, String ip, int port) {
        Proc.Result r = Proc.run(Duration.ofSeconds(10),
                from.argv("socat", "-t3", "-T5", "-", "TCP4:" + ip + ":" + port + ",connect-timeout=3"), "ping\n");
        return r.out().strip().equals("ping");
    }

    /**
     * Repeats {@code probe} (each a new connection) until every name in {@code expected} answered,
     * at most {@code attempts} times, and returns the names seen; failure outputs are kept for the
     * caller's message via {@link Reached#describe()}.
     */
    static Reached reachAll(Set<String> expected, int attempts, Supplier<Proc.Result> probe) {
        Set<String> seen = new TreeSet<>();
        List<String> odd = new ArrayList<>();
        int made = 0;
        while (made < attempts && !seen.containsAll(expected)) {
            Proc.Result r = probe.get();
            made++;
            String answer = r.out().strip();
            if (r.ok() && !answer.isEmpty()) {
                seen.add(answer);
            } else if (odd.size() < 5) {
                odd.add(r.describe());
            }
        }
        return new Reached(new TreeSet<>(expected), seen, made, odd);
    }

    /** Makes {@code count} connections and returns every answer (to show what is not reached). */
    static Reached sample(int count, Supplier<Proc.Result> probe) {
        return reachAll(Set.of("\u0000never"), count, probe);
    }

    record Reached(Set<String> expected, Set<String> seen, int attempts, List<String> failures) {
        boolean complete() {
            return seen.containsAll(expected);
        }

        String describe() {
            return "expected answers from " + expected + ", saw " + seen + " in " + attempts + " connections"
                    + (failures.isEmpty() ? "" : "; failed connections:\n  " + String.join("\n  ", failures));
        }
    }

    /**
     * A long-lived TCP connection through socat to an echo server: each line sent comes back. The
     * reply is read from the process's captured stdout (see {@link Proc}), polled with a deadline.
     */
    static final class EchoSession implements AutoCloseable {
        private final Proc proc;
        private final OutputStream out;

        EchoSession(NetNs from, String ip, int port) {
            this.proc = from.start(List.of("socat", "-T600", "-", "TCP4:" + ip + ":" + port + ",connect-timeout=3"), true);
            this.out = proc.stdin();
        }

        Proc proc() {
            return proc;
        }

        /** Sends one line and returns the echoed line, or null if none came within the timeout. */
        String exchange(String line, Duration timeout) {
            int before = proc.outLines().size();
            try {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("echo session broken (" + proc + ", stderr: " + proc.err() + ")", e);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() - deadline < 0) {
                List<String> now = proc.outLines();
                if (now.size() > before) {
                    return now.get(before);
                }
                if (!proc.alive()) {
                    return null;
                }
                Wait.pause(Duration.ofMillis(20));
            }
            return null;
        }

        String describe() {
            return proc + (proc.alive() ? " (running)" : " (exited " + proc.process().exitValue() + ")")
                    + "\n  stdout: " + proc.out() + "\n  stderr: " + proc.err();
        }

        @Override
        public void close() {
            proc.close();
        }
    }
}
