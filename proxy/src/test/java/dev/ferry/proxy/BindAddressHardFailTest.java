package dev.ferry.proxy;

import dev.ferry.core.IpFamily;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.ModeMetrics;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.proxy.source.InputProblems;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --bind-address-hard-fail, against a port another socket holds: with it, the daemon reports the
 * failure (the Node event) and stops the proxy; without it, it retries as upstream does.
 */
class BindAddressHardFailTest {

    private static ProxyDaemon daemon() {
        return new ProxyDaemon("node-a", InputProblems.logging(), "fake",
                new ModeRuntime(List.of(new FamilyBackend("fake IPv4", IpFamily.IPV4, new ProxyDaemonHealthTest.SwitchBackend())),
                        ModeMetrics.NONE),
                t -> new ProxyDaemonHealthTest.IdleSource(), Duration.ofMillis(10), Duration.ofSeconds(30));
    }

    @Test
    void aServerThatCannotListenStopsTheProxyWithHardFail() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            BindAddress address = new BindAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
            AtomicReference<String> reason = new AtomicReference<>();
            CountDownLatch stopped = new CountDownLatch(1);
            try (ProxyDaemon d = daemon()) {
                d.serveHttp(address, null, (r, error) -> reason.set(r + ": " + error), stopped::countDown);
                assertTrue(stopped.await(10, TimeUnit.SECONDS), "the proxy is told to stop");
                assertTrue(reason.get().startsWith(ProxyDaemon.HEALTHZ_FAILED + ": cannot listen on " + address), reason.get());
                assertEquals(List.of(), d.httpAddresses());
            }
        }
    }

    @Test
    void withoutHardFailTheServerIsRetriedAndTheProxyRuns() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            BindAddress address = new BindAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
            CountDownLatch reported = new CountDownLatch(1);
            try (ProxyDaemon d = daemon()) {
                d.serveHttp(address, null, (r, error) -> reported.countDown(), null);
                assertTrue(reported.await(10, TimeUnit.SECONDS), "the failure is reported (the Node event)");
                taken.close();
                dev.ferry.core.Poll.until("the health server listening once the port is free", () -> !d.httpAddresses().isEmpty());
            }
        }
    }
}
