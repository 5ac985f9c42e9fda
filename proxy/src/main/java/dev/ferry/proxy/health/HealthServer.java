package dev.ferry.proxy.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.proxy.metrics.ProxyMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The proxy's own health server on --healthz-bind-address, as upstream's: {@code /healthz} is 200
 * while the proxy keeps up with its input ({@link ProxyHealth}) and the Node is eligible (not being
 * deleted, not tainted ToBeDeletedByClusterAutoscaler), else 503; {@code /livez} ignores the Node.
 * Both answer with upstream's JSON body ({@link HealthBody}) and are counted in
 * kubeproxy_proxy_healthz_total / kubeproxy_proxy_livez_total. Other paths: 404.
 *
 * <p>Threads: the JDK's HTTP server accepts on its own thread and answers on one
 * "ferry-healthz" thread; a probe only reads {@link ProxyHealth} and a volatile flag, so it never
 * waits for a sync. Failures: a failed bind is thrown from {@link #start}; an answer that cannot be
 * written (the prober went away) is dropped.
 */
public final class HealthServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthServer.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final ProxyHealth health;
    private final BooleanSupplier nodeEligible;
    private final ProxyMetrics metrics;

    private HealthServer(HttpServer server, ExecutorService executor, ProxyHealth health, BooleanSupplier nodeEligible,
                         ProxyMetrics metrics) {
        this.server = server;
        this.executor = executor;
        this.health = health;
        this.nodeEligible = nodeEligible;
        this.metrics = metrics;
    }

    /**
     * Listens on {@code address} (port 0: any free port) and serves until closed.
     *
     * @param nodeEligible whether this node should get load-balancer traffic (see
     *                     {@link dev.ferry.core.ChangeTracker#nodeEligible()})
     * @throws IOException when the address cannot be bound
     */
    public static HealthServer start(InetSocketAddress address, ProxyHealth health, BooleanSupplier nodeEligible,
                                     ProxyMetrics metrics) throws IOException {
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(nodeEligible, "nodeEligible");
        Objects.requireNonNull(metrics, "metrics");
        HttpServer server = HttpServer.create(address, 16);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ferry-healthz");
            t.setDaemon(true);
            return t;
        });
        HealthServer hs = new HealthServer(server, executor, health, nodeEligible, metrics);
        server.createContext("/", hs::handle);
        server.setExecutor(executor);
        server.start();
        log.info("serving /healthz and /livez on {}", hs.address());
        return hs;
    }

    /** Where it listens (with the port chosen when 0 was asked). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            String path = exchange.getRequestURI().getPath();
            ProxyHealth.Report report = health.report();
            int code;
            String body;
            if (path.equals("/healthz")) {
                boolean eligible = nodeEligible.getAsBoolean();
                code = report.healthy() && eligible ? 200 : 503;
                body = HealthBody.json(report, eligible, code == 200);
                metrics.healthz(code);
            } else if (path.equals("/livez")) {
                code = report.healthy() ? 200 : 503;
                body = HealthBody.json(report, null, code == 200);
                metrics.livez(code);
            } else {
                byte[] notFound = "404 page not found\n".getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                exchange.sendResponseHeaders(404, notFound.length);
                exchange.getResponseBody().write(notFound);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        } catch (IOException e) {
            log.debug("health probe answer not delivered: {}", e.toString());
        } finally {
            exchange.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
