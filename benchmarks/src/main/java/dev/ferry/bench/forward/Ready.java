package dev.ferry.bench.forward;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/** Readiness checks: bounded polls on a condition (never a fixed sleep). */
final class Ready {

    /** Polls {@code condition} every 20 ms until it holds, or fails naming {@code what} after {@code limit}. */
    static void await(String what, Duration limit, BooleanSupplier condition, Procs.Proc watched) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (watched != null) {
                Procs.checkAlive(watched);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " not ready within " + limit.toSeconds() + " s"
                        + (watched == null ? "" : "; log of " + watched.name() + ":\n" + watched.tail()));
            }
            try {
                Thread.sleep(20); // poll interval, not synchronisation: the loop re-checks the condition
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + what, e);
            }
        }
    }

    /**
     * True when a TCP socket in state LISTEN is bound to exactly this IPv4 address and port (or the
     * wildcard), read from /proc/net/tcp and tcp6 (Netty's epoll sockets are dual-stack IPv6 sockets,
     * listed with the IPv4-mapped address): no probe connection, so an iperf3 server or a
     * balancer's round-robin position is not disturbed.
     */
    static boolean listening(InetSocketAddress a) {
        byte[] ip = a.getAddress().getAddress();
        // /proc prints addresses as native-endian 32-bit words: little-endian on x86 and arm64
        String v4 = HexFormat.of().withUpperCase().formatHex(new byte[] {ip[3], ip[2], ip[1], ip[0]});
        String port = ":" + String.format(Locale.ROOT, "%04X", a.getPort());
        List<String> wanted = List.of(v4 + port, "00000000" + port,
                "0000000000000000FFFF0000" + v4 + port, "00000000000000000000000000000000" + port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                if (Files.readAllLines(Path.of(table)).stream().skip(1).map(String::trim).map(l -> l.split("\\s+"))
                        .anyMatch(f -> f[3].equals("0A") && wanted.contains(f[1]))) {
                    return true;
                }
            } catch (IOException e) {
                // no IPv6 on this machine: tcp6 is missing
            }
        }
        return false;
    }

    /** True when one GET to {@code a} is answered with status 200 (one connection, closed after). */
    static boolean answersHttp(InetSocketAddress a) {
        try (Socket s = new Socket()) {
            s.connect(a, 500);
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            return head.equals("HTTP/1.1 200");
        } catch (IOException e) {
            return false;
        }
    }

    private Ready() {
    }
}
