package dev.ferry.userspace;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.ServicePortName;
import dev.ferry.mode.LegacyGauges;
import dev.ferry.mode.ModeMetrics;
import dev.ferry.userspace.forward.ForwarderStats;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Userspace mode's per-service-port counters, which upstream cannot give (its data path is the
 * kernel's): connections, bytes each way, connections moved to splice(2), and failed connects
 * per endpoint. Prefixed {@code ferry_} so they never clash with upstream's names. Labels:
 * service_port ("ns/name:port", upstream's service port name) and protocol.
 *
 * <p>Threads: read at scrape time on the HTTP thread; the counters are LongAdders the event loops
 * add to, so a scrape never blocks the data path. A service port that goes away takes its
 * series with it (they restart at zero if it comes back, which Prometheus' rate() tolerates).
 */
public final class UserspaceMetrics implements ModeMetrics {

    private final Supplier<Map<ServicePortName, ForwarderStats>> stats;

    /** @param stats the forwarders' counters per service port, read at each scrape */
    public UserspaceMetrics(Supplier<Map<ServicePortName, ForwarderStats>> stats) {
        this.stats = Objects.requireNonNull(stats, "stats");
    }

    @Override
    public void register(PrometheusRegistry registry, LegacyGauges legacy) {
        CounterWithCallback.builder().name("ferry_userspace_connections_total")
                .help("TCP connections accepted and UDP sessions created, per service port")
                .labelNames("service_port", "protocol")
                .callback(cb -> stats.get().forEach((name, s) ->
                        cb.call(s.totalConnections(), name.toString(), name.protocol().toString())))
                .register(registry);
        GaugeWithCallback.builder().name("ferry_userspace_active_connections")
                .help("TCP connections open and UDP sessions alive, per service port")
                .labelNames("service_port", "protocol")
                .callback(cb -> stats.get().forEach((name, s) ->
                        cb.call(s.activeConnections(), name.toString(), name.protocol().toString())))
                .register(registry);
        CounterWithCallback.builder().name("ferry_userspace_bytes_total")
                .help("Bytes forwarded per service port; direction in: client to endpoint, out: endpoint to client")
                .labelNames("service_port", "protocol", "direction")
                .callback(cb -> stats.get().forEach((name, s) -> {
                    cb.call(s.bytesIn(), name.toString(), name.protocol().toString(), "in");
                    cb.call(s.bytesOut(), name.toString(), name.protocol().toString(), "out");
                }))
                .register(registry);
        CounterWithCallback.builder().name("ferry_userspace_spliced_connections_total")
                .help("TCP connections moved to splice(2) for bulk transfer, per service port")
                .labelNames("service_port", "protocol")
                .callback(cb -> stats.get().forEach((name, s) ->
                        cb.call(s.splicedConnections(), name.toString(), name.protocol().toString())))
                .register(registry);
        CounterWithCallback.builder().name("ferry_userspace_endpoint_connect_failures_total")
                .help("Connects to an endpoint that were refused, timed out or unreachable, per service port and endpoint")
                .labelNames("service_port", "protocol", "endpoint")
                .callback(cb -> stats.get().forEach((name, s) -> s.connectFailures().forEach((endpoint, n) ->
                        cb.call(n, name.toString(), name.protocol().toString(),
                                IpAddresses.hostPort(endpoint.getAddress(), endpoint.getPort())))))
                .register(registry);
    }
}
