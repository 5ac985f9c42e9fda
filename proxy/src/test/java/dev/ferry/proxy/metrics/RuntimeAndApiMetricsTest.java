package dev.ferry.proxy.metrics;

import dev.ferry.iptables.IptablesMetrics;
import dev.ferry.proxy.source.ApiClients;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.StandardHttpRequest;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * /metrics, scraped over HTTP from a real {@link MetricsServer}, carries the process's
 * {@code process_*} and {@code jvm_*} series and the API client's {@code rest_client_*} series
 * (requests made through {@link ApiClients} against fabric8's mock API server), with upstream's
 * names and labels.
 */
class RuntimeAndApiMetricsTest {

    private static Scrape scrape(ProxyMetrics metrics) throws IOException, InterruptedException {
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), metrics)) {
            InetSocketAddress a = server.address();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + a.getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            return new Scrape(r.body());
        }
    }

    @Test
    void processAndJvmSeriesAreServed() throws Exception {
        Scrape s = scrape(new ProxyMetrics("iptables", new IptablesMetrics(), Clock.systemUTC()));

        assertTrue(s.value("process_resident_memory_bytes") > 1e6, "RSS is read from /proc/self/status");
        assertTrue(s.value("process_cpu_seconds_total") > 0);
        assertTrue(s.value("process_open_fds") > 0);
        assertTrue(s.has("process_start_time_seconds") && s.has("process_max_fds") && s.has("process_virtual_memory_bytes"));
        assertTrue(s.value("jvm_memory_used_bytes{area=\"heap\"}") > 0);
        assertTrue(s.value("jvm_memory_max_bytes{area=\"heap\"}") > 0, "the heap limit the JVM chose");
        assertTrue(s.has("jvm_memory_used_bytes{area=\"nonheap\"}"));
        assertTrue(s.value("jvm_threads_current") > 0);
        assertTrue(s.value("jvm_classes_currently_loaded") > 0);
        assertTrue(s.has("jvm_buffer_pool_used_bytes{pool=\"direct\"}"), "Netty's direct memory shows here");
        assertEquals("summary", s.types.get("jvm_gc_collection_seconds"));
        assertTrue(s.samples.keySet().stream().anyMatch(k -> k.startsWith("jvm_runtime_info{")), () -> s.text);
        assertTrue(s.samples.keySet().stream().noneMatch(k -> k.startsWith("jvm_native_memory_")),
                "no native-memory series without -XX:NativeMemoryTracking");
    }

    @Test
    void apiRequestsAreCountedAndTimedAsClientGoDoes() throws Exception {
        KubernetesMockServer api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        api.init(InetAddress.getLoopbackAddress(), 0);
        String host = "127.0.0.1:" + api.getPort();
        try (KubernetesClient client = ApiClients.connect(null, "http://" + host)) {
            client.services().inNamespace("ns").resource(new ServiceBuilder().withNewMetadata().withName("web")
                    .endMetadata().build()).create();
            client.services().inNamespace("ns").list();
            client.services().inNamespace("ns").list();
            assertNull(client.services().inNamespace("ns").withName("missing").get(), "answered 404");
        } finally {
            api.destroy();
        }

        Scrape s = scrape(new ProxyMetrics("iptables", new IptablesMetrics(), Clock.systemUTC()));
        assertEquals("counter", s.types.get("rest_client_requests_total"));
        assertEquals(1.0, s.value("rest_client_requests_total{code=\"201\",host=\"" + host + "\",method=\"POST\"}"));
        assertEquals(2.0, s.value("rest_client_requests_total{code=\"200\",host=\"" + host + "\",method=\"GET\"}"));
        assertEquals(1.0, s.value("rest_client_requests_total{code=\"404\",host=\"" + host + "\",method=\"GET\"}"));
        assertEquals("histogram", s.types.get("rest_client_request_duration_seconds"));
        assertEquals(3.0, s.value("rest_client_request_duration_seconds_count{host=\"" + host + "\",verb=\"GET\"}"));
        assertEquals(3.0, s.value("rest_client_request_duration_seconds_bucket{host=\"" + host + "\",verb=\"GET\",le=\"+Inf\"}"));
        assertTrue(s.has("rest_client_request_duration_seconds_bucket{host=\"" + host + "\",verb=\"POST\",le=\"0.005\"}"),
                "upstream's buckets");
    }

    @Test
    void aRequestWithoutAnAnswerCountsAsError() throws Exception {
        ApiRequestMetrics m = new ApiRequestMetrics();
        PrometheusRegistry registry = new PrometheusRegistry();
        m.register(registry);
        StandardHttpRequest request = (StandardHttpRequest) new StandardHttpRequest.Builder()
                .uri(URI.create("https://[fd00::1]:6443/api/v1/services")).build();
        m.consumer(null, request);
        m.afterConnectionFailure(request, new ConnectException("refused"));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        Scrape s = new Scrape(out.toString(StandardCharsets.UTF_8));
        assertEquals(1.0, s.value("rest_client_requests_total{code=\"<error>\",host=\"[fd00::1]:6443\",method=\"GET\"}"));
        assertEquals(1.0, s.value("rest_client_request_duration_seconds_count{host=\"[fd00::1]:6443\",verb=\"GET\"}"));
    }
}
