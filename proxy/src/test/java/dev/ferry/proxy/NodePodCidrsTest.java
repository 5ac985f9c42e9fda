package dev.ferry.proxy;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Problems;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NodeCIDR's life cycle: wait for the Node's podCIDRs, stop when they change, as upstream's node manager. */
class NodePodCidrsTest {

    private final AtomicInteger stops = new AtomicInteger();
    private final ChangeTracker tracker = new ChangeTracker("n1", Problems.IGNORE, () -> { });
    private final LocalTrafficOptions options = ProxyOptionsTest.parse("--detect-local-mode=NodeCIDR").localTraffic;
    private final NodePodCidrs watch = options.watchPodCidrs(tracker, stops::incrementAndGet);

    private static Node node(String name, String... podCidrs) {
        return new NodeBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withPodCIDRs(podCidrs).endSpec().build();
    }

    @Test
    void waitsForPodCidrsThenStopsTheProxyWhenTheyChange() throws InterruptedException {
        CountDownLatch never = new CountDownLatch(1);
        tracker.updateNode(node("n1")); // no podCIDRs yet
        tracker.updateNode(node("other", "10.9.0.0/24")); // not this node
        assertFalse(watch.awaitAllocated(Duration.ofMillis(50), never), "no podCIDRs: it times out");

        Thread allocator = new Thread(() -> tracker.updateNode(node("n1", "10.244.1.0/24")));
        allocator.start();
        assertTrue(watch.awaitAllocated(Duration.ofSeconds(30), never));
        allocator.join();

        tracker.updateNode(node("n1", "10.244.1.0/24")); // the same again, e.g. a status update
        assertEquals(0, stops.get());
        assertFalse(watch.changed());
        tracker.updateNode(node("n1", "10.244.7.0/24"));
        assertEquals(1, stops.get(), "a new podCIDR stops the proxy, as upstream exits");
        assertTrue(watch.changed());
        tracker.updateNode(node("n1", "10.244.8.0/24"));
        assertEquals(1, stops.get(), "stopped once");
    }

    @Test
    void aStopEndsTheWaitAndOtherModesNeverWait() throws InterruptedException {
        assertFalse(watch.awaitAllocated(NodePodCidrs.TIMEOUT, new CountDownLatch(0)));
        NodePodCidrs other = ProxyOptionsTest.parse().localTraffic.watchPodCidrs(
                new ChangeTracker("n1", Problems.IGNORE, () -> { }), stops::incrementAndGet);
        assertTrue(other.awaitAllocated(Duration.ZERO, new CountDownLatch(1)));
        assertFalse(other.changed());
    }
}
