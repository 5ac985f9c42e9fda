package dev.ferry.userspace.forward;

import dev.ferry.core.Poll;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * TCP forwarding over real loopback sockets, on every data path: epoll copying through the JVM, epoll splicing every
 * connection from its start, and NIO.
 */
class TcpForwardingTest {

    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);
    private static final ServicePortName NAME = new ServicePortName("ns", "svc", "http", Protocol.TCP);

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void roundRobinAlternatesExactly(DataPath path) throws Exception {
        List<TcpBackend> backends = List.of(greeter("127.0.0.2", "a"), greeter("127.0.0.3", "b"), greeter("127.0.0.4", "c"));
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(backends.stream().map(TcpBackend::address).toList(), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);

        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            try (Socket s = connect(proxy, null)) {
                seen.add(readLine(s));
            }
        }
        assertEquals(List.of("a", "b", "c", "a", "b", "c", "a", "b", "c"), seen);
        assertEquals(9, forwarder.stats().totalConnections());
        assertEquals(9 * 2, forwarder.stats().bytesOut(), "each greeting is 2 bytes");
        Poll.until("all connections closed", () -> forwarder.stats().activeConnections() == 0);
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void unchangedUpdateKeepsPositionChangedListRestarts(DataPath path) throws Exception {
        TcpBackend a = greeter("127.0.0.2", "a");
        TcpBackend b = greeter("127.0.0.3", "b");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(a.address(), b.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        assertEquals("a", greetingVia(proxy, null));
        forwarder.update(List.of(a.address(), b.address()), 0);
        assertEquals("b", greetingVia(proxy, null), "an equal update is a no-op");
        forwarder.update(List.of(b.address(), a.address()), 0);
        assertEquals("b", greetingVia(proxy, null), "a changed list restarts at its first endpoint");
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void affinityPinsEachClient(DataPath path) throws Exception {
        TcpBackend a = greeter("127.0.0.2", "a");
        TcpBackend b = greeter("127.0.0.3", "b");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(a.address(), b.address()), 60);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);

        List<String> first = new ArrayList<>();
        List<String> second = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            first.add(greetingVia(proxy, "127.0.0.5"));
            second.add(greetingVia(proxy, "127.0.0.6"));
        }
        assertEquals(List.of("a", "a", "a", "a"), first);
        assertEquals(List.of("b", "b", "b", "b"), second);

        // The pinned endpoint goes away: the client moves to a live one and is pinned there.
        forwarder.update(List.of(b.address()), 60);
        assertEquals("b", greetingVia(proxy, "127.0.0.5"));
        forwarder.update(List.of(a.address(), b.address()), 60);
        assertEquals("b", greetingVia(proxy, "127.0.0.5"));
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void refusedEndpointIsSkippedAndCounted(DataPath path) throws Exception {
        InetSocketAddress refused = TcpBackend.refusedAddress("127.0.0.2");
        TcpBackend b = greeter("127.0.0.3", "b");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(refused, b.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);

        for (int i = 0; i < 4; i++) {
            assertEquals("b", greetingVia(proxy, null));
        }
        // Each connection first tries the refused endpoint (cursor 0, 2, 4, 6), then the next one.
        assertEquals(Map.of(refused, 4L), forwarder.stats().connectFailures());
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void failedConnectsLeaveNoSocketOpen(DataPath path) throws Exception {
        InetSocketAddress refused = TcpBackend.refusedAddress("127.0.0.2");
        TcpBackend b = greeter("127.0.0.3", "b");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(refused, b.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        assertEquals("b", greetingVia(proxy, null)); // warm up: lazily opened files (classes, pipes) open now
        Poll.until("connection closed", () -> forwarder.stats().activeConnections() == 0);
        long before = openFiles();
        for (int i = 0; i < 50; i++) {
            assertEquals("b", greetingVia(proxy, null));
        }
        assertEquals(Map.of(refused, 51L), forwarder.stats().connectFailures());
        Poll.until("every socket of those connections closed", Duration.ofSeconds(10),
                () -> openFiles() <= before + 5, () -> openFiles() + " open files, " + before + " before");
    }

    private static long openFiles() {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void clientIsClosedWhenNoEndpointAccepts(DataPath path) throws Exception {
        InetSocketAddress refused = TcpBackend.refusedAddress("127.0.0.2");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        assertClosedByProxy(proxy, "no endpoints at all");
        forwarder.update(List.of(refused), 0);
        assertClosedByProxy(proxy, "every attempt refused");
        assertEquals(Map.of(refused, 4L), forwarder.stats().connectFailures(), "one per configured attempt");
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void updateDoesNotBreakAnOpenConnection(DataPath path) throws Exception {
        TcpBackend a = greeter("127.0.0.2", "a");
        TcpBackend b = greeter("127.0.0.3", "b");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(a.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (Socket open = connect(proxy, null)) {
            assertEquals("a", readLine(open));
            echo(open, "before");
            forwarder.update(List.of(b.address()), 0);
            assertEquals("b", greetingVia(proxy, null), "new connections use the new endpoints");
            echo(open, "after");
        }
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void clientHalfCloseReachesBackendWhichCanStillAnswer(DataPath path) throws Exception {
        TcpBackend backend = manual("127.0.0.2");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(backend.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (Socket client = connect(proxy, null); Socket server = backend.nextAccepted()) {
            server.setSoTimeout(10_000);
            byte[] request = new byte[300_000];
            client.getOutputStream().write(request);
            client.shutdownOutput();
            assertEquals(request.length, readToEof(server.getInputStream()).length, "every byte, then EOF");
            server.getOutputStream().write("answer".getBytes(StandardCharsets.US_ASCII));
            server.shutdownOutput();
            assertEquals("answer", new String(readToEof(client.getInputStream()), StandardCharsets.US_ASCII));
        }
        Poll.until("the connection closed once both directions finished",
                () -> forwarder.stats().activeConnections() == 0);
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void backendHalfCloseReachesClientWhichCanStillSend(DataPath path) throws Exception {
        TcpBackend backend = manual("127.0.0.2");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(backend.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (Socket client = connect(proxy, null); Socket server = backend.nextAccepted()) {
            server.setSoTimeout(10_000);
            server.getOutputStream().write("banner".getBytes(StandardCharsets.US_ASCII));
            server.shutdownOutput();
            assertEquals("banner", new String(readToEof(client.getInputStream()), StandardCharsets.US_ASCII));
            client.getOutputStream().write("late".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            assertEquals("late", new String(readToEof(server.getInputStream()), StandardCharsets.US_ASCII));
        }
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void slowReaderDoesNotMakeTheProxyBufferEverything(DataPath path) throws Exception {
        TcpBackend backend = manual("127.0.0.2");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(backend.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        long total = 128L << 20;
        try (Socket client = connect(proxy, null); Socket server = backend.nextAccepted()) {
            Thread writer = new Thread(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    for (long sent = 0; sent < total; sent += chunk.length) {
                        server.getOutputStream().write(chunk);
                    }
                    server.shutdownOutput();
                } catch (IOException e) {
                    // the test failed and closed the sockets
                }
            });
            writer.setDaemon(true);
            writer.start();
            // The client reads nothing: wait until the proxy stops reading from the backend (no progress for 500 ms).
            long[] last = {-1, System.nanoTime()};
            Poll.until("the proxy stopped reading", Duration.ofSeconds(20), () -> {
                long now = forwarder.stats().bytesOut();
                if (now != last[0]) {
                    last[0] = now;
                    last[1] = System.nanoTime();
                    return false;
                }
                return System.nanoTime() - last[1] > 500_000_000L;
            }, () -> last[0] + " bytes read");
            // Bound: the client's receive buffer and the proxy's send buffer (tcp_rmem/tcp_wmem maxima: 32 MiB and
            // 4 MiB here) plus one water mark; far below what the backend wants to send.
            assertTrue(forwarder.stats().bytesOut() < 48L << 20, "proxy read " + forwarder.stats().bytesOut());
            assertTrue(writer.isAlive(), "the backend is blocked, not finished");
            assertEquals(total, readToEof(client.getInputStream()).length, "everything arrives once the client reads");
        }
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void idleConnectionIsClosedOnBothSides(DataPath path) throws Exception {
        TcpBackend backend = manual("127.0.0.2");
        ForwarderConfig config = new ForwarderConfig(List.of(Duration.ofSeconds(1)), Duration.ofMillis(300), Duration.ofSeconds(1), 1);
        ServicePortForwarder forwarder = forwarder(path, config);
        forwarder.update(List.of(backend.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (Socket client = connect(proxy, null); Socket server = backend.nextAccepted()) {
            server.setSoTimeout(10_000);
            client.getOutputStream().write(1);
            assertEquals(1, server.getInputStream().read());
            long start = System.nanoTime();
            assertEquals(-1, client.getInputStream().read(), "client sees the close");
            assertEquals(-1, server.getInputStream().read(), "backend sees the close");
            assertTrue(System.nanoTime() - start >= 200_000_000L, "not closed before it was idle");
        }
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void closeAndUnlistenCloseTheirConnections(DataPath path) throws Exception {
        TcpBackend backend = manual("127.0.0.2");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(backend.address()), 0);
        InetSocketAddress first = forwarder.listen(ANY_PORT);
        InetSocketAddress second = forwarder.listen(new InetSocketAddress("127.0.0.3", 0));
        assertEquals(java.util.Set.of(first, second), forwarder.listening());

        try (Socket viaFirst = connect(first, null); Socket serverOfFirst = backend.nextAccepted();
             Socket viaSecond = connect(second, null); Socket serverOfSecond = backend.nextAccepted()) {
            serverOfFirst.setSoTimeout(10_000);
            serverOfSecond.setSoTimeout(10_000);
            forwarder.unlisten(first);
            assertEquals(-1, viaFirst.getInputStream().read());
            assertEquals(-1, serverOfFirst.getInputStream().read());
            echoRaw(viaSecond, serverOfSecond);   // the other listener's connection is untouched
            assertEquals(java.util.Set.of(second), forwarder.listening());

            forwarder.close();
            assertEquals(-1, viaSecond.getInputStream().read());
            assertEquals(-1, serverOfSecond.getInputStream().read());
            assertEquals(java.util.Set.of(), forwarder.listening());
        }
        try (ServerSocket again = new ServerSocket()) {
            again.setReuseAddress(true);
            again.bind(second);   // the port is free again
        }
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void takenAddressIsABindException(DataPath path) throws Exception {
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        InetSocketAddress bound = forwarder.listen(ANY_PORT);
        assertThrows(BindException.class, () -> forwarder.listen(bound));
        Forwarders forwarders = new Forwarders(path.configure(ForwarderConfig.defaults()), path.transport);
        cleanup.add(forwarders);
        assertThrows(IllegalArgumentException.class,
                () -> forwarders.create(new ServicePortName("ns", "svc", "", Protocol.SCTP)));
    }

    @ParameterizedTest
    @EnumSource(DataPath.class)
    void backendResetClosesTheClient(DataPath path) throws Exception {
        TcpBackend backend = manual("127.0.0.2");
        ServicePortForwarder forwarder = forwarder(path, ForwarderConfig.defaults());
        forwarder.update(List.of(backend.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (Socket client = connect(proxy, null)) {
            Socket server = backend.nextAccepted();
            server.setSoTimeout(10_000);
            echoRaw(client, server); // the proxy has finished connecting (a reset before that is a failed connect)
            server.setSoLinger(true, 0);
            server.close();
            assertClosedByProxy(client, "backend reset");
        }
        Poll.until("no active connection", () -> forwarder.stats().activeConnections() == 0);
    }

    // ---- helpers

    private ServicePortForwarder forwarder(DataPath path, ForwarderConfig config) {
        Forwarders forwarders = path.open(config);
        cleanup.add(forwarders);
        return forwarders.create(NAME);
    }

    private TcpBackend greeter(String host, String id) {
        TcpBackend backend = TcpBackend.greeter(host, id);
        cleanup.add(backend);
        return backend;
    }

    private TcpBackend manual(String host) {
        TcpBackend backend = TcpBackend.manual(host);
        cleanup.add(backend);
        return backend;
    }

    static Socket connect(InetSocketAddress proxy, String localHost) throws IOException {
        Socket s = new Socket();
        if (localHost != null) {
            s.bind(new InetSocketAddress(InetAddress.getByName(localHost), 0));
        }
        s.connect(proxy, 5_000);
        s.setSoTimeout(10_000);
        return s;
    }

    private static String greetingVia(InetSocketAddress proxy, String localHost) throws IOException {
        try (Socket s = connect(proxy, localHost)) {
            return readLine(s);
        }
    }

    private static String readLine(Socket s) throws IOException {
        StringBuilder line = new StringBuilder();
        InputStream in = s.getInputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new AssertionError("EOF after '" + line + "'");
            }
            line.append((char) c);
        }
        return line.toString();
    }

    private static void echo(Socket s, String text) throws IOException {
        s.getOutputStream().write((text + "\n").getBytes(StandardCharsets.US_ASCII));
        assertEquals(text, readLine(s));
    }

    private static void echoRaw(Socket client, Socket server) throws IOException {
        client.getOutputStream().write(7);
        assertEquals(7, server.getInputStream().read());
        server.getOutputStream().write(8);
        assertEquals(8, client.getInputStream().read());
    }

    private static byte[] readToEof(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }

    /** The reset may even reach the client before its connect() returns. */
    private static void assertClosedByProxy(InetSocketAddress proxy, String why) throws IOException {
        Socket s;
        try {
            s = connect(proxy, null);
        } catch (java.net.SocketException reset) {
            return;
        }
        try (s) {
            assertClosedByProxy(s, why);
        }
    }

    private static void assertClosedByProxy(Socket s, String why) {
        try {
            int r = s.getInputStream().read();
            assertEquals(-1, r, why + ": expected EOF or reset");
        } catch (IOException reset) {
            // a reset is fine too
            assertTrue(!(reset instanceof java.net.SocketTimeoutException), why + ": not closed within 10 s");
        }
    }
}
