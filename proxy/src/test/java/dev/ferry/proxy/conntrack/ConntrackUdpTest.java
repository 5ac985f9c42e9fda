package dev.ferry.proxy.conntrack;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Fixtures;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Problems;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.iptables.IptablesConfig;
import dev.ferry.netfilter.CommandRunners;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The must-show, on the real kernel: a client keeps sending to a UDP Service while its
 * only endpoint is replaced. Our iptables rules (IptablesBackend driving the "node" namespace)
 * and our reconciler (ctnetlink socket opened in that namespace) run in the order the daemon
 * runs them. Without the cleanup the client's flow stays DNATed to the gone endpoint (shown
 * first); after the cleanup its very next packets reach the new endpoint.
 */
class ConntrackUdpTest {

    static final String SERVICE_IP = "10.96.0.10";
    static final String OLD_ENDPOINT = "10.244.0.2";
    static final String NEW_ENDPOINT = "10.244.0.3";
    static final int SERVICE_PORT = 53;
    static final int TARGET_PORT = 5353;
    static final int CLIENT_PORT = 40053;
    static final Duration REACH = Duration.ofSeconds(10);

    private UdpTopology net;
    private IptablesBackend backend;
    private ChangeTracker tracker;
    private ConntrackReconciler reconciler;
    private final Service service = Fixtures.clusterIPService("default", "statsd", SERVICE_IP, "udp", SERVICE_PORT, "UDP");

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(UdpTopology.isRoot(), "needs root for network namespaces, iptables and conntrack");
        net = new UdpTopology();
        backend = new IptablesBackend(IpFamily.IPV4, IptablesConfig.defaults(),
                CommandRunners.prefixed(List.of("ip", "netns", "exec", net.node), CommandRunners.process()));
        tracker = new ChangeTracker("node-1", Problems.IGNORE, () -> { });
        reconciler = ConntrackReconciler.inNamespace(net.nodeFile(),
                Set.of(IpAddresses.parse(UdpTopology.NODE_IP), IpAddresses.parse("10.244.0.1")));
        tracker.updateService(null, service);
    }

    @AfterEach
    void tearDown() {
        if (reconciler != null) {
            reconciler.close();
        }
        if (net != null) {
            net.close();
        }
    }

    /**
     * Both endpoints listening, the Service on the old one only, and a client sending to the
     * Service from one fixed socket until the old endpoint hears it; returns (old, new) received logs.
     */
    private Path[] sendingToTheOldEndpoint() throws IOException {
        Path oldReceived = net.startEndpoint(OLD_ENDPOINT, TARGET_PORT);
        Path newReceived = net.startEndpoint(NEW_ENDPOINT, TARGET_PORT);
        tracker.updateEndpointSlice(null, slice(OLD_ENDPOINT));
        sync();
        net.startSender(SERVICE_IP, SERVICE_PORT, CLIENT_PORT);
        assertTrue(net.sendUntil("before", () -> UdpTopology.contains(oldReceived, "before-"), REACH),
                "the client reaches the first endpoint through the Service");
        return new Path[] {oldReceived, newReceived};
    }

    @Test
    void replacingTheOnlyEndpointBlackholesTheClientUntilTheCleanupRuns() throws IOException {
        Path[] received = sendingToTheOldEndpoint();
        Path oldReceived = received[0];
        Path newReceived = received[1];
        EndpointSlice oldSlice = slice(OLD_ENDPOINT);

        // The pod is replaced: the old one disappears, the slice now lists the new one.
        net.removeEndpointAddress(OLD_ENDPOINT);
        tracker.updateEndpointSlice(oldSlice, slice(NEW_ENDPOINT));
        ProxySnapshot replaced = syncRulesOnly();

        // Without the cleanup: the rules are right, but the client's flow still DNATs to the old address.
        assertFalse(net.sendUntil("stale", () -> UdpTopology.contains(newReceived, "stale-"), Duration.ofSeconds(2)),
                "without the cleanup no packet may reach the new endpoint");
        String table = net.conntrackList();
        assertTrue(table.contains("sport=" + CLIENT_PORT) && table.contains("src=" + OLD_ENDPOINT), table);

        // The daemon runs the reconciler right after the sync.
        reconciler.reconcile(IpFamily.IPV4, replaced);

        assertEquals(1, reconciler.deletedEntries(IpFamily.IPV4));
        assertEquals(0, reconciler.errors(IpFamily.IPV4));
        assertTrue(net.sendUntil("after", () -> UdpTopology.contains(newReceived, "after-"), REACH),
                () -> "after the cleanup the same client socket reaches the new endpoint; " + net.describe());
        String after = net.conntrackList();
        assertFalse(after.contains("src=" + OLD_ENDPOINT), after);
        assertTrue(after.contains("src=" + NEW_ENDPOINT), after);
    }

    @Test
    void aServiceScaledToZeroStopsBlackholingAndRecoversWhenAnEndpointReturns() throws IOException {
        Path[] received = sendingToTheOldEndpoint();
        Path oldReceived = received[0];
        Path newReceived = received[1];
        EndpointSlice oldSlice = slice(OLD_ENDPOINT);

        // Scaled to zero (kubernetes#139628): the stale DNAT flow must go, so the REJECT rule applies.
        net.removeEndpointAddress(OLD_ENDPOINT);
        EndpointSlice empty = slice();
        tracker.updateEndpointSlice(oldSlice, empty);
        sync();
        assertEquals(1, reconciler.deletedEntries(IpFamily.IPV4));
        net.send("nobody");
        String table = net.conntrackList();
        assertFalse(table.contains("src=" + OLD_ENDPOINT), table);

        // An endpoint comes back: the client's next packets reach it.
        tracker.updateEndpointSlice(empty, slice(NEW_ENDPOINT));
        sync();
        assertTrue(net.sendUntil("back", () -> UdpTopology.contains(newReceived, "back-"), REACH), net::describe);
        assertEquals(0, reconciler.errors(IpFamily.IPV4));
    }

    /** What the daemon does: sync the rules, then (when the sync worked) clean conntrack. */
    private ProxySnapshot sync() {
        ProxySnapshot s = syncRulesOnly();
        reconciler.reconcile(IpFamily.IPV4, s);
        return s;
    }

    private ProxySnapshot syncRulesOnly() {
        ProxySnapshot s = tracker.snapshot();
        SyncResult r = backend.sync(s);
        assertTrue(r.ok(), r.error());
        return s;
    }

    private static EndpointSlice slice(String... ips) {
        Fixtures.Ep[] eps = new Fixtures.Ep[ips.length];
        for (int i = 0; i < ips.length; i++) {
            eps[i] = Fixtures.Ep.ready(ips[i]);
        }
        return Fixtures.slice("default", "statsd-abc", "statsd", "udp", TARGET_PORT, "UDP", eps);
    }
}
