package dev.ferry.proxy.metrics;

import dev.ferry.core.IpAddresses;
import dev.ferry.proxy.http.HttpEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The server on --metrics-bind-address, as upstream's: {@code /metrics} (Prometheus' text
 * format), {@code /proxyMode} (the mode's name, plain text) and {@code /healthz} ("ok": the
 * process answers; the real health is on the health server). Other paths: 404.
 *
 * <p>Threads: answered on the "ferry-metrics" event loop ({@link HttpEndpoint}); a scrape reads
 * thread-safe metrics and never waits for a sync. Failures: a failed bind is thrown from
 * {@link #start}.
 */
public final class MetricsServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

    private final ProxyMetrics metrics;
    private HttpEndpoint endpoint;

    private MetricsServer(ProxyMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /**
     * Listens on {@code address} (port 0: any free port) and serves until closed.
     *
     * @throws IOException when the address cannot be bound
     */
    public static MetricsServer start(InetSocketAddress address, ProxyMetrics metrics) throws IOException {
        MetricsServer ms = new MetricsServer(metrics);
        ms.endpoint = HttpEndpoint.start(address, "ferry-metrics", ms::answer);
        // as asked (0.0.0.0, not the dual-stack socket's ::), with the port it got
        log.info("serving /metrics and /proxyMode on {}", IpAddresses.hostPort(address.getAddress(), ms.address().getPort()));
        return ms;
    }

    /** Where it listens (with the port chosen when 0 was asked). */
    public InetSocketAddress address() {
        return endpoint.address();
    }

    private HttpEndpoint.Reply answer(String method, String path) {
        switch (path) {
            case "/metrics": {
                ByteArrayOutputStream text = new ByteArrayOutputStream(16 * 1024);
                try {
                    metrics.write(text);
                } catch (IOException e) {
                    throw new UncheckedIOException(e); // not from a byte array; answered 500
                }
                return new HttpEndpoint.Reply(200, ProxyMetrics.contentType(), text.toByteArray());
            }
            case "/proxyMode":
                return new HttpEndpoint.Reply(200, "text/plain; charset=utf-8", metrics.mode().getBytes(StandardCharsets.UTF_8));
            case "/healthz":
                return HttpEndpoint.Reply.text(200, "ok");
            default:
                return HttpEndpoint.Reply.notFound();
        }
    }

    @Override
    public void close() {
        endpoint.close();
    }
}
