package dev.ferry.bench.footprint;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * What the proxy's /metrics says of its JVM (the jvm_* series), read over the run's network
 * namespace: heap used and committed, non-heap used, direct buffers, threads. Null fields when
 * /metrics did not answer (--dry-run and --once serve none).
 */
record JvmScrape(double heapUsed, double heapCommitted, double heapMax, double nonHeapUsed, double directUsed,
                 double threads) {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static JvmScrape of(ProxyRun run) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + run.address() + ":10249/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return null;
            }
            String t = r.body();
            return new JvmScrape(value(t, "jvm_memory_used_bytes{area=\"heap\"}"),
                    value(t, "jvm_memory_committed_bytes{area=\"heap\"}"), value(t, "jvm_memory_max_bytes{area=\"heap\"}"),
                    value(t, "jvm_memory_used_bytes{area=\"nonheap\"}"), value(t, "jvm_buffer_pool_used_bytes{pool=\"direct\"}"),
                    value(t, "jvm_threads_current"));
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The sample of {@code series} in the text format; NaN when absent. */
    static double value(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).strip());
            }
        }
        return Double.NaN;
    }
}
