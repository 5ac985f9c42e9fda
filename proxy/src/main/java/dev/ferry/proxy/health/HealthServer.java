package dev.ferry.proxy.health;

import dev.ferry.core.IpAddresses;
import dev.ferry.proxy.http.HttpEndpoint;
import dev.ferry.proxy.metrics.ProxyMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * The proxy's own health server on --healthz-bind-address, as upstream's: {@code /healthz} is 200
 * while the proxy keeps up with its input ({@link ProxyHealth}) and the Node is eligible (not being
 * deleted, not tainted ToBeDeletedByClusterAutoscaler), else 503; {@code /livez} ignores the Node.
 * Both answer with upstream's JSON body ({@link HealthBody}) and are counted in
 * kubeproxy_proxy_healthz_total / kubeproxy_proxy_livez_total. Other paths: 404.
 *
 * <p>Threads: answered on the "ferry-healthz" event loop ({@link HttpEndpoint}); a probe only reads
 * {@link ProxyHealth} and a volatile flag, so it never waits for a sync. Failures: a failed bind is
 * thrown from {@link #start}.
 */
public final class HealthServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthServer.class);

    private final ProxyHealth health;
    private final BooleanSupplier nodeEligible;
    private final ProxyMetrics metrics;
    private HttpEndpoint endpoint;

    private HealthServer(ProxyHealth health, BooleanSupplier nodeEligible, ProxyMetrics metrics) {
        this.health = Objects.requireNonNull(health, "health");
        this.nodeEligible = Objects.requireNonNull(nodeEligible, "nodeEligible");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
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
        HealthServer hs = new HealthServer(health, nodeEligible, metrics);
        hs.endpoint = HttpEndpoint.start(address, "ferry-healthz", hs::answer);
        // as asked (0.0.0.0, not the dual-stack socket's ::), with the port it got
        log.info("serving /healthz and /livez on {}", IpAddresses.hostPort(address.getAddress(), hs.address().getPort()));
        return hs;
    }

    /** Where it listens (with the port chosen when 0 was asked). */
    public InetSocketAddress address() {
        return endpoint.address();
    }

    private HttpEndpoint.Reply answer(String method, String path) {
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
            return HttpEndpoint.Reply.notFound();
        }
        return new HttpEndpoint.Reply(code, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        endpoint.close();
    }
}
