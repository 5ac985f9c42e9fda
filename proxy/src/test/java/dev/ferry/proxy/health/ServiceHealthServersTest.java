package dev.ferry.proxy.health;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.NodeInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real servers on loopback, asked by a real HTTP client. */
class ServiceHealthServersTest {
    static final NamespacedName WEB = new NamespacedName("shop", "web");
    static final NamespacedName API = new NamespacedName("shop", "api");
    static final NodeInfo NODE = new NodeInfo("n1", Map.of(), List.of(IpAddresses.parse("127.0.0.1")));

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final ProxyHealthTest.ManualClock clock = new ProxyHealthTest.ManualClock();
    private final ProxyHealth health = new ProxyHealth(Duration.ofSeconds(60), clock);
    private ServiceHealthServers servers;

    @AfterEach
    void close() {
        if (servers != null) {
            servers.close();
        }
    }

    /** Servers bound to loopback only (the CIDR path of --nodeport-addresses). */
    private ServiceHealthServers loopbackServers(Duration retry) {
        servers = new ServiceHealthServers(health, BindAddresses.system(List.of("127.0.0.0/8")), retry);
        return servers;
    }

    private static HealthCheckTargets targets(Map<NamespacedName, Integer> ports, Map<NamespacedName, Integer> counts) {
        return new HealthCheckTargets(ports, counts);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private HttpResponse<String> get(String host, int port, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path))
                .timeout(Duration.ofSeconds(5)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private boolean refused(String host, int port) {
        try {
            get(host, port, "/");
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return e.getCause() instanceof ConnectException;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void answersWithTheLocalEndpointCountHeaderAndUpstreamsBody() throws Exception {
        int port = freePort();
        loopbackServers(Duration.ofSeconds(1)).apply(targets(Map.of(WEB, port), Map.of(WEB, 2)), NODE);

        HttpResponse<String> r = get("127.0.0.1", port, "/any/path");
        assertEquals(200, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""));
        assertEquals("2", r.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElse(""));
        assertEquals(HealthCheckReply.of(WEB, 2, true).body(), r.body());
        // the client keeps the connection: a second request on it gets an answer too
        assertEquals(200, get("127.0.0.1", port, "/").statusCode());
    }

    @Test
    void unavailableWithoutLocalEndpointsAndWhileTheProxyIsUnhealthy() throws Exception {
        int port = freePort();
        loopbackServers(Duration.ofSeconds(1)).apply(targets(Map.of(WEB, port), Map.of(WEB, 0)), NODE);
        HttpResponse<String> none = get("127.0.0.1", port, "/");
        assertEquals(503, none.statusCode());
        assertEquals("0", none.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElse(""));

        servers.apply(targets(Map.of(WEB, port), Map.of(WEB, 1)), NODE);
        assertEquals(200, get("127.0.0.1", port, "/").statusCode(), "the next sync's count is served at once");

        health.updated("iptables IPv4");
        health.queued("iptables IPv4");
        clock.advance(Duration.ofSeconds(61));
        HttpResponse<String> late = get("127.0.0.1", port, "/");
        assertEquals(503, late.statusCode());
        assertTrue(late.body().contains("\"serviceProxyHealthy\": false"), late.body());
        assertEquals("1", late.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElse(""));
    }

    @Test
    void serversFollowServicesComingGoingAndMovingPorts() throws Exception {
        int webPort = freePort();
        int apiPort = freePort();
        loopbackServers(Duration.ofSeconds(1)).apply(targets(Map.of(WEB, webPort), Map.of(WEB, 1)), NODE);
        assertTrue(refused("127.0.0.1", apiPort));

        servers.apply(targets(Map.of(WEB, webPort, API, apiPort), Map.of(WEB, 1, API, 4)), NODE);
        assertTrue(get("127.0.0.1", apiPort, "/").body().contains("\"name\": \"api\""));
        assertEquals("4", get("127.0.0.1", apiPort, "/").headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElse(""));

        int moved = freePort();
        servers.apply(targets(Map.of(WEB, moved, API, apiPort), Map.of(WEB, 1, API, 4)), NODE);
        assertTrue(refused("127.0.0.1", webPort), "the old port is closed when the Service's port moves");
        assertEquals(200, get("127.0.0.1", moved, "/").statusCode());
        assertEquals(Map.of(WEB, moved, API, apiPort), servers.listening());

        servers.apply(targets(Map.of(API, apiPort), Map.of(API, 4)), NODE);
        assertTrue(refused("127.0.0.1", moved), "closed when the Service goes away");
        assertEquals(Map.of(API, apiPort), servers.listening());

        servers.close();
        assertTrue(refused("127.0.0.1", apiPort), "closed with the proxy");
    }

    @Test
    void aPortInUseIsReportedAndRetriedUntilItBinds() throws Exception {
        int port = freePort();
        try (ServerSocket blocker = new ServerSocket()) {
            blocker.bind(new InetSocketAddress("127.0.0.1", port));
            loopbackServers(Duration.ofMillis(200)).apply(targets(Map.of(WEB, port), Map.of(WEB, 1)), NODE);
            assertEquals(Map.of(), servers.listening());
            assertTrue(servers.failing().containsKey(WEB), () -> "failing: " + servers.failing());
            assertTrue(servers.failing().get(WEB).toLowerCase().contains("in use"), servers.failing().get(WEB));
        }
        // no sync needed: the retry thread binds once the port is free
        await("the retry to bind " + port, () -> servers.listening().containsKey(WEB));
        assertEquals(Map.of(), servers.failing());
        assertEquals(200, get("127.0.0.1", port, "/").statusCode());
    }

    @Test
    void wildcardListensOnEveryAddressAndPrimaryOnTheNodesAddress() throws Exception {
        int port = freePort();
        servers = new ServiceHealthServers(health, BindAddresses.system(List.of()), Duration.ofSeconds(1));
        servers.apply(targets(Map.of(WEB, port), Map.of(WEB, 1)), NODE);
        assertEquals(200, get("127.0.0.1", port, "/").statusCode());
        assertEquals(200, get("127.0.0.2", port, "/").statusCode(), "any local address, not just one");
        servers.close();

        int primaryPort = freePort();
        servers = new ServiceHealthServers(health, BindAddresses.system(List.of("primary")), Duration.ofSeconds(1));
        servers.apply(targets(Map.of(WEB, primaryPort), Map.of(WEB, 1)), NODE);
        assertEquals(200, get("127.0.0.1", primaryPort, "/").statusCode());
        assertTrue(refused("127.0.0.2", primaryPort), "only the node's primary address");
    }

    @Test
    void noMatchingAddressMeansNotListeningRatherThanFailing() {
        BindAddresses none = new BindAddresses(List.of("203.0.113.0/24"), () -> List.of(IpAddresses.parse("127.0.0.1")));
        assertEquals(new BindAddresses.Plan(false, List.of()), none.resolve(NODE));
        servers = new ServiceHealthServers(health, none, Duration.ofSeconds(1));
        servers.apply(targets(Map.of(WEB, freePort()), Map.of(WEB, 1)), NODE);
        assertEquals(Map.of(), servers.failing());
        assertThrows(IllegalArgumentException.class, () -> new BindAddresses(List.of("not-a-cidr"), List::of));
    }

    @Test
    void bindAddressesPickInterfaceAddressesInTheCidrsAndThePrimaryOnes() {
        BindAddresses b = new BindAddresses(List.of("10.0.0.0/8", "primary"), () -> List.of(
                IpAddresses.parse("10.1.2.3"), IpAddresses.parse("192.168.1.1"), IpAddresses.parse("fd00::1")));
        NodeInfo node = new NodeInfo("n1", Map.of(), List.of(IpAddresses.parse("192.168.1.1"), IpAddresses.parse("fd00::1")));
        assertEquals(List.of(IpAddresses.parse("10.1.2.3"), IpAddresses.parse("192.168.1.1"), IpAddresses.parse("fd00::1")),
                b.resolve(node).addresses());
        assertFalse(b.resolve(node).wildcard());
        assertTrue(BindAddresses.system(List.of()).resolve(node).wildcard());
    }

    @Test
    void aSnapshotDrivesTheServers() throws Exception {
        int port = freePort();
        loopbackServers(Duration.ofSeconds(1)).sync(HealthCheckTargetsTest.snapshot(HealthCheckTargetsTest.port("lb", "http", port,
                List.of(HealthCheckTargetsTest.ep("10.244.0.21", 8080, true, false, true)))));
        HttpResponse<String> r = get("127.0.0.1", port, "/");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"name\": \"lb\""), r.body());
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), clock.instant());
    }
}
