package dev.ferry.userspace.forward;

import dev.ferry.core.Poll;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** UDP forwarding over real loopback sockets, on both transports. */
class UdpForwardingTest {

    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);
    private static final ServicePortName NAME = new ServicePortName("ns", "dns", "udp", Protocol.UDP);

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void requestsGetRepliesFromTheServiceAddressOneSessionPerClient(Transport transport) throws Exception {
        UdpEcho a = echo("127.0.0.2", "a");
        UdpEcho b = echo("127.0.0.3", "b");
        ServicePortForwarder forwarder = forwarder(transport, Duration.ofSeconds(30));
        forwarder.update(List.of(a.address(), b.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);

        try (DatagramSocket first = client(); DatagramSocket second = client()) {
            assertEquals("a:one", ask(first, proxy, "one"));
            assertEquals("b:two", ask(second, proxy, "two"));
            assertEquals("a:three", ask(first, proxy, "three"), "a session keeps its endpoint");
            assertEquals("b:four", ask(second, proxy, "four"));
        }
        assertEquals(2, forwarder.stats().totalConnections());
        assertEquals(2, forwarder.stats().activeConnections());
        assertEquals(3 + 3 + 5 + 4, forwarder.stats().bytesIn());
        assertEquals(5 + 5 + 7 + 6, forwarder.stats().bytesOut());
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void idleSessionsExpireAndTheNextDatagramStartsANewOne(Transport transport) throws Exception {
        UdpEcho a = echo("127.0.0.2", "a");
        UdpEcho b = echo("127.0.0.3", "b");
        ServicePortForwarder forwarder = forwarder(transport, Duration.ofMillis(200));
        forwarder.update(List.of(a.address(), b.address()), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (DatagramSocket client = client()) {
            assertEquals("a:x", ask(client, proxy, "x"));
            assertEquals(1, forwarder.stats().activeConnections());
            Poll.until("the session expired", () -> forwarder.stats().activeConnections() == 0);
            assertEquals("b:y", ask(client, proxy, "y"), "a new session, chosen round robin");
            assertEquals(2, forwarder.stats().totalConnections());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void affinityPinsAClientAcrossSessions(Transport transport) throws Exception {
        UdpEcho a = echo("127.0.0.2", "a");
        UdpEcho b = echo("127.0.0.3", "b");
        ServicePortForwarder forwarder = forwarder(transport, Duration.ofMillis(200));
        forwarder.update(List.of(a.address(), b.address()), 60);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (DatagramSocket first = client(); DatagramSocket other = client("127.0.0.6")) {
            assertEquals("a:1", ask(first, proxy, "1"));
            assertEquals("b:2", ask(other, proxy, "2"));
            Poll.until("sessions expired", () -> forwarder.stats().activeConnections() == 0);
            // Round robin alone would now give "a" then "b"; affinity keeps each client where it was.
            assertEquals("b:3", ask(other, proxy, "3"));
            assertEquals("a:4", ask(first, proxy, "4"));
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void noEndpointDropsAndCloseStopsTheListener(Transport transport) throws Exception {
        ServicePortForwarder forwarder = forwarder(transport, Duration.ofSeconds(30));
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (DatagramSocket client = client()) {
            client.setSoTimeout(300);
            send(client, proxy, "lost");
            assertThrows(SocketTimeoutException.class, () -> receive(client));
            assertEquals(0, forwarder.stats().totalConnections());

            UdpEcho a = echo("127.0.0.2", "a");
            forwarder.update(List.of(a.address()), 0);
            client.setSoTimeout(10_000);
            assertEquals("a:ok", ask(client, proxy, "ok"));
            forwarder.close();
            assertEquals(0, forwarder.stats().activeConnections(), "sessions closed with the listener");
        }
        try (DatagramSocket again = new DatagramSocket(proxy)) {
            assertEquals(proxy, again.getLocalSocketAddress(), "the port is free again");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void unreachableEndpointIsCounted(Transport transport) throws Exception {
        InetSocketAddress nobody;
        try (DatagramSocket closed = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0))) {
            nobody = (InetSocketAddress) closed.getLocalSocketAddress();
        }
        ServicePortForwarder forwarder = forwarder(transport, Duration.ofSeconds(30));
        forwarder.update(List.of(nobody), 0);
        InetSocketAddress proxy = forwarder.listen(ANY_PORT);
        try (DatagramSocket client = client()) {
            send(client, proxy, "anyone?");
            Poll.until("the ICMP port unreachable counted", () -> forwarder.stats().connectFailures().containsKey(nobody));
        }
    }

    // ---- helpers

    private ServicePortForwarder forwarder(Transport transport, Duration udpIdle) {
        if (transport == Transport.EPOLL) {
            assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(), "native epoll is not available here");
        }
        ForwarderConfig config = new ForwarderConfig(List.of(Duration.ofSeconds(1)), Duration.ofHours(1), udpIdle, 2);
        Forwarders forwarders = new Forwarders(config, transport);
        cleanup.add(forwarders);
        return forwarders.create(NAME);
    }

    private UdpEcho echo(String host, String id) throws IOException {
        UdpEcho echo = new UdpEcho(host, id);
        cleanup.add(echo);
        return echo;
    }

    private DatagramSocket client() throws IOException {
        return client("127.0.0.1");
    }

    private DatagramSocket client(String host) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(host), 0));
        s.setSoTimeout(10_000);
        return s;
    }

    private static String ask(DatagramSocket client, InetSocketAddress proxy, String text) throws IOException {
        send(client, proxy, text);
        DatagramPacket reply = receive(client);
        assertEquals(proxy, reply.getSocketAddress(), "the reply comes from the address the client sent to");
        return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII);
    }

    private static void send(DatagramSocket client, InetSocketAddress to, String text) throws IOException {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        client.send(new DatagramPacket(data, data.length, to));
    }

    private static DatagramPacket receive(DatagramSocket socket) throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[2048], 2048);
        socket.receive(packet);
        return packet;
    }

    /** Answers each datagram with "id:" + its payload. */
    private static final class UdpEcho implements AutoCloseable {
        private final DatagramSocket socket;

        UdpEcho(String host, String id) throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(host), 0));
            byte[] prefix = (id + ":").getBytes(StandardCharsets.US_ASCII);
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        DatagramPacket in = receive(socket);
                        byte[] out = new byte[prefix.length + in.getLength()];
                        System.arraycopy(prefix, 0, out, 0, prefix.length);
                        System.arraycopy(in.getData(), 0, out, prefix.length, in.getLength());
                        socket.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
                    }
                } catch (IOException closed) {
                    // test over
                }
            }, "udp-echo-" + id);
            t.setDaemon(true);
            t.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
