package dev.ferry.proxy.health;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.core.IpAddresses;
import dev.ferry.iptables.IptablesMetrics;
import dev.ferry.proxy.metrics.MetricsServer;
import dev.ferry.proxy.metrics.ProxyMetrics;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The servers say where they listen as the flags spell it: 0.0.0.0:10256, not /[0:0:0:0:0:0:0:0]:10256. */
class ServerAddressLogTest {

    @Test
    void healthAndMetricsServersLogTheirAddressAsAsked() throws Exception {
        ProxyHealthTest.ManualClock clock = new ProxyHealthTest.ManualClock();
        ProxyMetrics metrics = new ProxyMetrics("iptables", new IptablesMetrics(), clock);
        Logger logger = (Logger) LoggerFactory.getLogger("dev.ferry.proxy");
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try (HealthServer health = HealthServer.start(new InetSocketAddress(IpAddresses.parse("0.0.0.0"), 0),
                new ProxyHealth(Duration.ofSeconds(60), clock), () -> true, metrics);
             MetricsServer served = MetricsServer.start(new InetSocketAddress(IpAddresses.parse("127.0.0.1"), 0), metrics)) {
            List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(List.of("serving /healthz and /livez on 0.0.0.0:" + health.address().getPort(),
                    "serving /metrics and /proxyMode on 127.0.0.1:" + served.address().getPort()), lines);
        } finally {
            logger.detachAppender(logs);
        }
    }
}
