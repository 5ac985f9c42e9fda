package dev.ferry.proxy.metrics;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.Poll;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import dev.ferry.userspace.UserspaceMetrics;
import dev.ferry.userspace.forward.DataPath;
import dev.ferry.userspace.forward.ForwarderConfig;
import dev.ferry.userspace.forward.Forwarders;
import dev.ferry.userspace.forward.ServicePortForwarder;
import dev.ferry.userspace.forward.TcpBackend;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Userspace mode's per-service-port metrics, from a real forwarder's counters over loopback. */
class ForwarderMetricsTest {

    private static final ServicePortName NAME = new ServicePortName("ns", "svc", "http", Protocol.TCP);

    private static Scrape scrape(ProxyMetrics metrics) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        return new Scrape(out.toString(StandardCharsets.UTF_8));
    }

    /** Connects through the proxy and reads the greeter's line ("a\n"), or until the proxy gives up. */
    private static void greetingVia(InetSocketAddress proxy) throws IOException {
        try (Socket s = new Socket(proxy.getAddress(), proxy.getPort())) {
            s.setSoTimeout(10_000); // a bound, not a pause: the reads below return as soon as bytes or EOF arrive
            InputStream in = s.getInputStream();
            try {
                for (int c; (c = in.read()) >= 0 && c != '\n'; ) {
                    // the greeting's first byte
                }
            } catch (IOException e) {
                // a reset when the endpoint refused: the connect failure is what is counted
            }
        }
    }

    @Test
    void connectionsBytesAndConnectFailuresPerServicePort() throws Exception {
        try (Forwarders forwarders = DataPath.NIO.open(ForwarderConfig.defaults());
             TcpBackend greeter = TcpBackend.greeter("127.0.0.2", "a")) {
            ServicePortForwarder forwarder = forwarders.create(NAME);
            forwarder.update(List.of(greeter.address()), 0);
            InetSocketAddress proxy = forwarder.listen(new InetSocketAddress("127.0.0.1", 0));
            ProxyMetrics metrics = new ProxyMetrics("userspace", new UserspaceMetrics(() -> Map.of(NAME, forwarder.stats())),
                    Clock.systemUTC());

            for (int i = 0; i < 3; i++) {
                greetingVia(proxy);
            }
            InetSocketAddress refused = TcpBackend.refusedAddress("127.0.0.3");
            forwarder.update(List.of(refused), 0);
            greetingVia(proxy);
            Poll.until("all connections closed", () -> forwarder.stats().activeConnections() == 0);

            Scrape s = scrape(metrics);
            String labels = "protocol=\"TCP\",service_port=\"ns/svc:http\"}"; // the client sorts label names
            assertEquals("counter", s.types.get("ferry_userspace_connections_total"));
            assertEquals("gauge", s.types.get("ferry_userspace_active_connections"));
            assertEquals("counter", s.types.get("ferry_userspace_bytes_total"));
            assertEquals("counter", s.types.get("ferry_userspace_spliced_connections_total"));
            assertEquals(4, s.value("ferry_userspace_connections_total{" + labels));
            assertEquals(0, s.value("ferry_userspace_active_connections{" + labels));
            assertEquals(3 * 2, s.value("ferry_userspace_bytes_total{direction=\"out\"," + labels), "3 greetings of 2 bytes");
            assertEquals(0, s.value("ferry_userspace_bytes_total{direction=\"in\"," + labels));
            assertEquals(0, s.value("ferry_userspace_spliced_connections_total{" + labels), "NIO never splices");
            double failures = s.value("ferry_userspace_endpoint_connect_failures_total{endpoint=\""
                    + IpAddresses.hostPort(refused.getAddress(), refused.getPort()) + "\"," + labels);
            assertEquals(forwarder.stats().connectFailures().get(refused), (long) failures, "each refused connect attempt");
            assertTrue(failures >= 1);
        }
    }
}
