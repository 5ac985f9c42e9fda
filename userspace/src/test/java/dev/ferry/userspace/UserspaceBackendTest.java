package dev.ferry.userspace;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Fixtures;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Problems;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.netfilter.CommandRunners;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.userspace.forward.ForwarderConfig;
import dev.ferry.userspace.forward.Forwarders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend's bookkeeping with real sockets on loopback (no root): direct mode binds local
 * Service addresses and follows port changes and removals; portal mode keeps one listener per
 * service port and writes a portal for it.
 */
class UserspaceBackendTest {
    private static final InetAddress ANY = address("0.0.0.0");

    private Forwarders forwarders;
    private final List<ServerSocket> backends = new ArrayList<>();

    @BeforeEach
    void start() {
        forwarders = new Forwarders(ForwarderConfig.defaults());
    }

    @AfterEach
    void stop() throws IOException {
        forwarders.close();
        for (ServerSocket s : backends) {
            s.close();
        }
    }

    private static InetAddress address(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A backend on 127.0.0.1 that writes {@code name} to each connection and closes it. */
    private int backend(String name) throws IOException {
        ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        backends.add(s);
        Thread t = new Thread(() -> {
            while (!s.isClosed()) {
                try (Socket c = s.accept()) {
                    c.getOutputStream().write(name.getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    return;
                }
            }
        }, "backend-" + name);
        t.setDaemon(true);
        t.start();
        return s.getLocalPort();
    }

    private static String get(String ip, int port) throws IOException {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(ip, port), 2000);
            c.setSoTimeout(5000);
            InputStream in = c.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static boolean refused(String ip, int port) {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(ip, port), 2000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static ProxySnapshot snapshot(ChangeTracker tracker) {
        return tracker.snapshot();
    }

    @Test
    void directModeBindsLocalServiceAddressesAndFollowsChanges() throws IOException {
        int p1 = backend("one");
        UserspaceBackend backend = UserspaceBackend.direct(forwarders, InetAddress.getLoopbackAddress(),
                LocalAddresses.of(List.of()));
        ChangeTracker tracker = new ChangeTracker("node-a", Problems.IGNORE, () -> { });
        var svc = Fixtures.clusterIPService("default", "web", "127.0.0.21", "http", 18081, "TCP");
        tracker.updateService(null, svc);
        tracker.updateEndpointSlice(null, Fixtures.slice("default", "web-1", "web", "http", p1, "TCP",
                Fixtures.Ep.ready("127.0.0.1")));
        SyncResult r = backend.sync(snapshot(tracker));
        assertTrue(r.ok(), r::error);
        assertEquals("one", get("127.0.0.21", 18081));

        // the port moves: the old address is released, the new one served
        var moved = Fixtures.clusterIPService("default", "web", "127.0.0.21", "http", 18082, "TCP");
        tracker.updateService(svc, moved);
        assertTrue(backend.sync(snapshot(tracker)).ok());
        assertEquals("one", get("127.0.0.21", 18082));
        assertTrue(refused("127.0.0.21", 18081));

        // a non-local address is not bound (nothing to serve it without portal rules)
        tracker.updateService(moved, null);
        var remote = Fixtures.clusterIPService("default", "web", "10.96.0.21", "http", 18082, "TCP");
        tracker.updateService(null, remote);
        assertTrue(backend.sync(snapshot(tracker)).ok());
        assertTrue(refused("127.0.0.21", 18082));
        assertTrue(backend.stats().size() == 1);

        tracker.updateService(remote, null);
        assertTrue(backend.sync(snapshot(tracker)).ok());
        assertTrue(backend.stats().isEmpty());
    }

    @Test
    void aTakenAddressFailsThatServicePortOnlyAndIsRetried() throws IOException {
        int p1 = backend("one");
        ServerSocket squatter = new ServerSocket(18090, 50, address("127.0.0.22"));
        backends.add(squatter);
        UserspaceBackend backend = UserspaceBackend.direct(forwarders, InetAddress.getLoopbackAddress(),
                LocalAddresses.of(List.of()));
        ChangeTracker tracker = new ChangeTracker("node-a", Problems.IGNORE, () -> { });
        tracker.updateService(null, Fixtures.clusterIPService("default", "a", "127.0.0.22", "http", 18090, "TCP"));
        tracker.updateService(null, Fixtures.clusterIPService("default", "b", "127.0.0.23", "http", 18090, "TCP"));
        for (String name : List.of("a", "b")) {
            tracker.updateEndpointSlice(null, Fixtures.slice("default", name + "-1", name, "http", p1, "TCP",
                    Fixtures.Ep.ready("127.0.0.1")));
        }
        SyncResult r = backend.sync(snapshot(tracker));
        assertFalse(r.ok());
        assertTrue(r.error().contains("default/a:http") && r.error().contains("127.0.0.22"), r.error());
        assertEquals("one", get("127.0.0.23", 18090));

        squatter.close();
        assertTrue(backend.sync(snapshot(tracker)).ok());
        assertEquals("one", get("127.0.0.22", 18090));
    }

    @Test
    void portalModeWritesOnePortalPerServicePortToItsListener() throws IOException {
        int p1 = backend("one");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        var runner = CommandRunners.dryRun(new PrintStream(printed, true, StandardCharsets.UTF_8));
        UserspaceBackend backend = UserspaceBackend.withPortals(forwarders, new PortalRules(IpFamily.IPV4, runner, chain -> false),
                ANY, PortRange.EPHEMERAL);
        ChangeTracker tracker = new ChangeTracker("node-a", Problems.IGNORE, () -> { });
        tracker.updateService(null, Fixtures.clusterIPService("default", "web", "10.96.0.30", "http", 80, "TCP"));
        tracker.updateEndpointSlice(null, Fixtures.slice("default", "web-1", "web", "http", p1, "TCP",
                Fixtures.Ep.ready("127.0.0.1")));
        SyncResult r = backend.sync(snapshot(tracker));
        assertTrue(r.ok(), r::error);
        String rules = printed.toString(StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("-A KUBE-PORTALS-CONTAINER -d 10.96.0.30/32 .*--dport 80 -j REDIRECT --to-ports (\\d+)")
                .matcher(rules);
        assertTrue(m.find(), rules);
        // the redirect target is the listener: connecting to it reaches the endpoint
        assertEquals("one", get("127.0.0.1", Integer.parseInt(m.group(1))));
    }
}
