package dev.ferry.userspace.forward;

import dev.ferry.core.Poll;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The switch from the Netty data path to splice with the default threshold, over real loopback sockets: when it
 * happens (a bulk read, not request/response traffic), and that no byte is lost, duplicated or reordered across it.
 */
class SpliceForwardingTest {

    private static final ServicePortName NAME = new ServicePortName("ns", "bulk", "data", Protocol.TCP);

    private Forwarders forwarders;
    private TcpBackend backend;
    private ServicePortForwarder forwarder;
    private InetSocketAddress proxy;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(), "native epoll is not available here");
        forwarders = new Forwarders(ForwarderConfig.defaults());
        assumeTrue(forwarders.splices(), "splice is not available here");
        backend = TcpBackend.manual("127.0.0.2");
        forwarder = forwarders.create(NAME);
        forwarder.update(List.of(backend.address()), 0);
        proxy = forwarder.listen(new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void tearDown() throws IOException {
        if (forwarders != null) {
            forwarders.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void requestResponseTrafficStaysOnTheNettyPath() throws Exception {
        try (Socket client = TcpForwardingTest.connect(proxy, null); Socket server = backend.nextAccepted()) {
            server.setSoTimeout(10_000);
            byte[] request = new byte[200];
            byte[] answer = new byte[1500];
            for (int i = 0; i < 300; i++) {
                client.getOutputStream().write(request);
                new DataInputStream(server.getInputStream()).readFully(new byte[request.length]);
                server.getOutputStream().write(answer);
                new DataInputStream(client.getInputStream()).readFully(new byte[answer.length]);
            }
        }
        assertEquals(0, forwarder.stats().splicedConnections(), "small exchanges never splice");
        assertEquals(300L * 200, forwarder.stats().bytesIn());
        assertEquals(300L * 1500, forwarder.stats().bytesOut());
    }

    @Test
    void bulkBothWaysAfterSmallTalkArrivesIntactThroughTheSwitch() throws Exception {
        long down = 96L << 20;
        long up = 24L << 20;
        try (Socket client = TcpForwardingTest.connect(proxy, null); Socket server = backend.nextAccepted()) {
            server.setSoTimeout(20_000);
            client.setSoTimeout(20_000);
            // Small talk first: copied through the JVM.
            for (int i = 0; i < 50; i++) {
                client.getOutputStream().write(i);
                assertEquals(i, server.getInputStream().read());
                server.getOutputStream().write(i);
                assertEquals(i, client.getInputStream().read());
            }
            // Then bulk both ways at once, each stream a seeded pseudo-random sequence; then FIN both ways.
            CompletableFuture<byte[]> serverSends = CompletableFuture.supplyAsync(() -> send(server, 1, down));
            CompletableFuture<byte[]> clientSends = CompletableFuture.supplyAsync(() -> send(client, 2, up));
            CompletableFuture<byte[]> serverGets = CompletableFuture.supplyAsync(() -> receive(server, up));
            byte[] clientGot = receive(client, down);
            assertArrayEquals(serverSends.get(30, TimeUnit.SECONDS), clientGot, "backend to client: same bytes");
            assertArrayEquals(clientSends.get(30, TimeUnit.SECONDS), serverGets.get(30, TimeUnit.SECONDS),
                    "client to backend: same bytes");
        }
        assertEquals(1, forwarder.stats().splicedConnections(), "the bulk transfer moved to splice");
        assertEquals(50 + up, forwarder.stats().bytesIn(), "every byte counted once, on either path");
        assertEquals(50 + down, forwarder.stats().bytesOut());
        Poll.until("the spliced connection is closed and counted", () -> forwarder.stats().activeConnections() == 0);
    }

    /**
     * A backend that echoes with one thread (read a chunk, write it back, blocking) reads only as fast as the proxy
     * takes its echo. When the switch paused reads until both sides' queues drained, such an echo stalled for good
     * once a queue had built up (UserspaceIT's socat echo, under load in CI); the switch no longer pauses reads. This
     * test does not force a queue to build, so it checks the echo through the switch, not that stall itself.
     */
    @Test
    void echoingBackendDoesNotStallTheSwitch() throws Exception {
        long total = 64L << 20;
        try (Socket client = TcpForwardingTest.connect(proxy, null); Socket server = backend.nextAccepted()) {
            server.setSoTimeout(20_000);
            client.setSoTimeout(20_000);
            CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> {
                byte[] buffer = new byte[1 << 20];
                try {
                    InputStream in = server.getInputStream();
                    OutputStream out = server.getOutputStream();
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        out.write(buffer, 0, n);
                    }
                    server.shutdownOutput();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            CompletableFuture<byte[]> sent = CompletableFuture.supplyAsync(() -> send(client, 3, total));
            byte[] received = receive(client, total);
            assertArrayEquals(sent.get(30, TimeUnit.SECONDS), received, "the echo is what was sent");
            echo.get(30, TimeUnit.SECONDS);
        }
        assertEquals(total, forwarder.stats().bytesIn());
        assertEquals(total, forwarder.stats().bytesOut());
    }

    @Test
    void closingTheForwarderClosesSplicedConnections() throws Exception {
        try (Socket client = TcpForwardingTest.connect(proxy, null); Socket server = backend.nextAccepted()) {
            server.setSoTimeout(10_000);
            server.getOutputStream().write(new byte[4 << 20]);
            new DataInputStream(client.getInputStream()).readFully(new byte[4 << 20]);
            Poll.until("spliced", () -> forwarder.stats().splicedConnections() == 1);
            forwarder.close();
            assertEquals(-1, client.getInputStream().read(), "client sees the close");
            assertEquals(-1, server.getInputStream().read(), "backend sees the close");
        }
        assertEquals(0, forwarder.stats().activeConnections());
    }

    /** Writes {@code total} bytes from a generator seeded with {@code seed}, then FIN; returns their SHA-256. */
    private static byte[] send(Socket socket, long seed, long total) {
        try {
            Random random = new Random(seed);
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[256 * 1024];
            for (long sent = 0; sent < total; sent += chunk.length) {
                random.nextBytes(chunk);
                digest.update(chunk);
                out.write(chunk);
            }
            socket.shutdownOutput();
            return digest.digest();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads to EOF, checks the count; returns the SHA-256 of what arrived. */
    private static byte[] receive(Socket socket, long expected) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[256 * 1024];
            long got = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
                got += n;
            }
            assertEquals(expected, got, "bytes before EOF");
            return digest.digest();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
