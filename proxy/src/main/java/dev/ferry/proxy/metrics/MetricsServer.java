package dev.ferry.proxy.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The server on --metrics-bind-address, as upstream's: {@code /metrics} (Prometheus' text
 * format), {@code /proxyMode} (the mode's name, plain text) and {@code /healthz} ("ok": the
 * process answers; the real health is on the health server). Other paths: 404.
 *
 * <p>Threads: the JDK's HTTP server accepts on its own thread and answers on one "ferry-metrics"
 * thread; a scrape reads thread-safe metrics and never waits for a sync. Failures: a failed bind
 * is thrown from {@link #start}; a scrape that cannot be written (the scraper went away) is dropped.
 */
public final class MetricsServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final ProxyMetrics metrics;

    private MetricsServer(HttpServer server, ExecutorService executor, ProxyMetrics metrics) {
        this.server = server;
        this.executor = executor;
        this.metrics = metrics;
    }

    /**
     * Listens on {@code address} (port 0: any free port) and serves until closed.
     *
     * @throws IOException when the address cannot be bound
     */
    public static MetricsServer start(InetSocketAddress address, ProxyMetrics metrics) throws IOException {
        Objects.requireNonNull(metrics, "metrics");
        HttpServer server = HttpServer.create(address, 16);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ferry-metrics");
            t.setDaemon(true);
            return t;
        });
        MetricsServer ms = new MetricsServer(server, executor, metrics);
        server.createContext("/", ms::handle);
        server.setExecutor(executor);
        server.start();
        log.info("serving /metrics and /proxyMode on {}", ms.address());
        return ms;
    }

    /** Where it listens (with the port chosen when 0 was asked). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) {
        try {
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/metrics" -> {
                    ByteArrayOutputStream text = new ByteArrayOutputStream(16 * 1024);
                    metrics.write(text);
                    answer(exchange, 200, ProxyMetrics.contentType(), text.toByteArray());
                }
                case "/proxyMode" -> answer(exchange, 200, "text/plain; charset=utf-8",
                        metrics.mode().getBytes(StandardCharsets.UTF_8));
                case "/healthz" -> answer(exchange, 200, "text/plain; charset=utf-8",
                        "ok".getBytes(StandardCharsets.UTF_8));
                default -> answer(exchange, 404, "text/plain; charset=utf-8",
                        "404 page not found\n".getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException | RuntimeException e) {
            log.debug("metrics answer not delivered: {}", e.toString());
        } finally {
            exchange.close();
        }
    }

    private static void answer(HttpExchange exchange, int code, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(code, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
