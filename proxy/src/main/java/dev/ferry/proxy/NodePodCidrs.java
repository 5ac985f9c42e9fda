package dev.ferry.proxy;

import dev.ferry.core.Cidr;
import dev.ferry.core.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * --detect-local-mode=NodeCIDR's life cycle, as upstream's node manager runs it: the proxy waits
 * (at most {@link #TIMEOUT}, then exits with an error) until this node's Node has spec.podCIDRs
 * before it programs anything, and exits when they later change, so that it is restarted with the
 * new ones. (The rules themselves take the CIDRs from the snapshot's Node; a change syncs in full.)
 *
 * <p>Threads: {@link #nodeUpdated} runs on the source's thread (the change tracker's node
 * listener); {@link #awaitAllocated} on the main thread; {@code stopProxy} may run on either.
 */
final class NodePodCidrs {

    private static final Logger log = LoggerFactory.getLogger(NodePodCidrs.class);

    /** Upstream's timeoutForNodePodCIDR. */
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    /** How often a long wait says that it still waits. */
    private static final Duration PROGRESS = Duration.ofSeconds(30);
    /** How soon a wait notices that the proxy was told to stop. */
    private static final Duration STOP_CHECK = Duration.ofSeconds(1);

    private final String node;
    private final Runnable stopProxy;
    private final CountDownLatch allocated;
    private final Object lock = new Object();
    private boolean seen; // guarded by lock: an update of this node arrived
    private List<Cidr> first; // guarded by lock: the podCIDRs the rules were started with
    private volatile boolean changed;

    NodePodCidrs(String node, Runnable stopProxy) {
        this.node = Objects.requireNonNull(node, "node");
        this.stopProxy = Objects.requireNonNull(stopProxy, "stopProxy");
        this.allocated = new CountDownLatch(1);
    }

    private NodePodCidrs() {
        this.node = "";
        this.stopProxy = () -> { };
        this.allocated = new CountDownLatch(0);
    }

    /** For the other modes: never waits, never changes. */
    static NodePodCidrs notNeeded() {
        return new NodePodCidrs();
    }

    /** An update of this node's Node (its podCIDRs as parsed). */
    void nodeUpdated(NodeInfo info) {
        List<Cidr> now = info.podCidrs();
        synchronized (lock) {
            seen = true;
            if (first == null) {
                if (!now.isEmpty()) {
                    first = now;
                    log.info("node {}: podCIDRs {}: local traffic is traffic from them", node, now);
                    allocated.countDown();
                }
                return;
            }
            if (changed || first.equals(now)) {
                return;
            }
            changed = true;
        }
        log.error("node {}: podCIDRs changed from {} to {}; exiting so that the proxy restarts with them (as upstream)",
                node, first, now);
        stopProxy.run();
    }

    /**
     * Waits until the node has podCIDRs (at once when not needed), saying so while it waits.
     *
     * @param timeout   how long at most ({@link #TIMEOUT} for the daemon)
     * @param stopped   opens when the proxy is told to stop
     * @return false when it timed out (logged as upstream's error) or the proxy was stopped
     */
    boolean awaitAllocated(Duration timeout, CountDownLatch stopped) throws InterruptedException {
        if (allocated.getCount() == 0) {
            return true;
        }
        log.info("--detect-local-mode=NodeCIDR: waiting for node {} to be allocated podCIDRs (at most {} s)",
                node, timeout.toSeconds());
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long nextProgress = start + PROGRESS.toNanos();
        while (true) {
            long now = System.nanoTime();
            if (now - deadline >= 0) {
                synchronized (lock) {
                    log.error(seen ? "timeout waiting for PodCIDR allocation on node {}" : "timeout waiting for node {} to exist",
                            node);
                }
                return false;
            }
            if (now - nextProgress >= 0) {
                log.info("still waiting for node {} to be allocated podCIDRs ({} s so far)", node,
                        Duration.ofNanos(now - start).toSeconds());
                nextProgress += PROGRESS.toNanos();
            }
            // in slices of at most a second, to notice a stop soon
            if (allocated.await(Math.min(deadline - now, STOP_CHECK.toNanos()), TimeUnit.NANOSECONDS)) {
                return true;
            }
            if (stopped.getCount() == 0) {
                return false;
            }
        }
    }

    /** The podCIDRs changed after they were first seen: the proxy stops and must exit with status 1. */
    boolean changed() {
        return changed;
    }
}
