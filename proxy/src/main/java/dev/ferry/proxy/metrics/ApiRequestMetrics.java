package dev.ferry.proxy.metrics;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The API client's requests as upstream's client-go counts them
 * (k8s.io/component-base/metrics/prometheus/restclient): {@code rest_client_requests_total{code,
 * method,host}} ({@code code} "&lt;error&gt;" when no answer came) and
 * {@code rest_client_request_duration_seconds{verb,host}}, from sending a request to its response
 * headers (for a watch: until the stream opened). A fabric8 request interceptor; one shared instance,
 * as upstream's are process-wide, registered with each {@link ProxyMetrics}.
 *
 * <p>Threads: fabric8 calls the interceptor on its HTTP client's threads; the metrics are
 * thread-safe, and the start times are kept in a synchronised weak map keyed by the request
 * (identity), so a request whose answer never comes leaves nothing behind. Requests fabric8 sends
 * without its byte-consumer path (WebSocket upgrades) are not timed.
 */
public final class ApiRequestMetrics implements Interceptor {

    /** Upstream's latency buckets: 5 ms .. 60 s. */
    static final double[] LATENCY_BUCKETS = {0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0};
    /** client-go's code label when a request got no HTTP answer. */
    static final String NO_ANSWER = "<error>";

    private static final ApiRequestMetrics SHARED = new ApiRequestMetrics();

    private final Counter requests = Counter.builder().name("rest_client_requests_total")
            .help("Number of HTTP requests, partitioned by status code, method, and host.")
            .labelNames("code", "method", "host").build();
    private final Histogram latency = Histogram.builder().name("rest_client_request_duration_seconds")
            .help("Request latency in seconds. Broken down by verb, and host.")
            .labelNames("verb", "host").classicUpperBounds(LATENCY_BUCKETS).classicOnly().build();
    private final Map<HttpRequest, Long> started = Collections.synchronizedMap(new WeakHashMap<>());

    ApiRequestMetrics() {
    }

    /** The process-wide instance: the API client reports to it, every {@link ProxyMetrics} serves it. */
    public static ApiRequestMetrics shared() {
        return SHARED;
    }

    /** Serves these series from {@code registry}. */
    void register(PrometheusRegistry registry) {
        registry.register(requests);
        registry.register(latency);
    }

    @Override
    public AsyncBody.Consumer<List<ByteBuffer>> consumer(AsyncBody.Consumer<List<ByteBuffer>> consumer, HttpRequest request) {
        started.put(request, System.nanoTime()); // fabric8 calls this right before it sends the request
        return consumer;
    }

    @Override
    public void after(HttpRequest request, HttpResponse<?> response, AsyncBody.Consumer<List<ByteBuffer>> consumer) {
        answered(request, Integer.toString(response.code()));
    }

    @Override
    public void afterConnectionFailure(HttpRequest request, Throwable failure) {
        answered(request, NO_ANSWER);
    }

    private void answered(HttpRequest request, String code) {
        String host = host(request.uri());
        requests.labelValues(code, request.method(), host).inc();
        Long start = started.remove(request);
        if (start != null) {
            latency.labelValues(request.method(), host).observe((System.nanoTime() - start) / 1e9);
        }
    }

    /** As Go's URL.Host: host, and ":port" when the URL names one ("[::1]:6443" for IPv6). */
    static String host(URI uri) {
        String host = uri.getHost() == null ? "" : uri.getHost();
        return uri.getPort() < 0 ? host : host + ":" + uri.getPort();
    }
}
