package dev.ferry.proxy.health;

import dev.ferry.iptables.IptablesMetrics;
import dev.ferry.proxy.metrics.ProxyMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /healthz and /livez over real HTTP on loopback, with a clock the test moves. */
class HealthServerTest {

    private final ProxyHealthTest.ManualClock clock = new ProxyHealthTest.ManualClock();
    private final ProxyHealth health = new ProxyHealth(Duration.ofSeconds(60), clock);
    private final AtomicBoolean nodeEligible = new AtomicBoolean(true);
    private final ProxyMetrics metrics = new ProxyMetrics("iptables", new IptablesMetrics(), clock);
    private final HttpClient http = HttpClient.newHttpClient();
    private HealthServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + path);
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HealthServer start() throws IOException {
        server = HealthServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), health,
                nodeEligible::get, metrics);
        return server;
    }

    @Test
    void answersWithUpstreamsStatusAndBody() throws Exception {
        start();
        HttpResponse<String> first = get("/healthz");
        assertEquals(200, first.statusCode(), "healthy while starting up");
        assertEquals("application/json", first.headers().firstValue("Content-Type").orElse(""));
        assertEquals("nosniff", first.headers().firstValue("X-Content-Type-Options").orElse(""));
        assertEquals("{\"lastUpdated\":\"2026-01-01T00:00:00Z\",\"currentTime\":\"2026-01-01T00:00:00Z\","
                + "\"nodeEligible\":true,\"healthy\":true}", first.body());

        health.updated("IPv4");
        clock.advance(Duration.ofMillis(1500));
        health.queued("IPv4");
        clock.advance(Duration.ofSeconds(59));
        assertEquals(200, get("/healthz").statusCode(), "a change waiting less than the timeout");
        clock.advance(Duration.ofSeconds(1));
        HttpResponse<String> late = get("/healthz");
        assertEquals(503, late.statusCode(), late.body());
        assertEquals("{\"lastUpdated\":\"2026-01-01T00:00:00Z\",\"currentTime\":\"2026-01-01T00:01:01.5Z\","
                + "\"nodeEligible\":true,\"healthy\":false,"
                + "\"status\":{\"IPv4\":{\"lastUpdated\":\"2026-01-01T00:00:00Z\",\"healthy\":false}}}", late.body());
        HttpResponse<String> lateLivez = get("/livez");
        assertEquals(503, lateLivez.statusCode());
        assertTrue(!lateLivez.body().contains("nodeEligible") && lateLivez.body().contains("\"healthy\":false"),
                lateLivez.body());

        health.updated("IPv4");
        HttpResponse<String> back = get("/livez");
        assertEquals(200, back.statusCode());
        assertEquals("{\"lastUpdated\":\"2026-01-01T00:01:01.5Z\",\"currentTime\":\"2026-01-01T00:01:01.5Z\","
                + "\"healthy\":true,\"status\":{\"IPv4\":{\"lastUpdated\":\"2026-01-01T00:01:01.5Z\",\"healthy\":true}}}",
                back.body());
        assertEquals(404, get("/healthz/extra").statusCode());
        assertEquals(404, get("/metrics").statusCode());
    }

    @Test
    void aNodeBeingDeletedFailsHealthzOnly() throws Exception {
        start();
        health.updated("IPv4");
        nodeEligible.set(false);
        HttpResponse<String> healthz = get("/healthz");
        assertEquals(503, healthz.statusCode());
        assertTrue(healthz.body().contains("\"nodeEligible\":false,\"healthy\":true"), healthz.body());
        assertEquals(200, get("/livez").statusCode(), "liveness ignores the Node");
        nodeEligible.set(true);
        assertEquals(200, get("/healthz").statusCode());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("kubeproxy_proxy_healthz_total{code=\"503\"} 1.0\n"), text);
        assertTrue(text.contains("kubeproxy_proxy_healthz_total{code=\"200\"} 1.0\n"), text);
        assertTrue(text.contains("kubeproxy_proxy_livez_total{code=\"200\"} 1.0\n"), text);
    }

    @Test
    void stalledClientsDoNotHoldUpProbes() throws Exception {
        start();
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort());
                s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush(); // and never the blank line that ends the request
                stalled.add(s);
            }
            assertEquals(200, get("/livez").statusCode(), "answered despite " + stalled.size() + " stalled requests");
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }

    @Test
    void goTimesAsGoWritesThem() {
        assertEquals("0001-01-01T00:00:00Z", HealthBody.goTime(null));
        assertEquals("2026-11-23T10:00:00Z", HealthBody.goTime(Instant.parse("2026-11-23T10:00:00Z")));
        assertEquals("2026-11-23T10:00:00.12Z", HealthBody.goTime(Instant.parse("2026-11-23T10:00:00.120Z")));
        assertEquals("2026-11-23T10:00:00.000000001Z", HealthBody.goTime(Instant.parse("2026-11-23T10:00:00.000000001Z")));
    }
}
