package dev.ferry.core;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the tracker tells metrics and /healthz: change counts, trigger times, node eligibility. */
class ChangeTrackerMetricsTest {

    private final ChangeTracker tracker = new ChangeTracker("node-a", Problems.IGNORE, () -> { });

    private static EndpointSlice withTrigger(EndpointSlice slice, Instant t) {
        return new EndpointSliceBuilder(slice).editMetadata()
                .addToAnnotations(EndpointSliceChangeTracker.TRIGGER_TIME_ANNOTATION, t.toString()).endMetadata().build();
    }

    @Test
    void countsEveryUpdateAndThePendingOnes() {
        var svc = Fixtures.clusterIPService("ns", "a", "10.96.0.1", "http", 80, "TCP");
        tracker.updateService(null, svc);
        tracker.updateService(svc, svc); // a no-op still counts as an update seen, as upstream
        var slice = Fixtures.slice("ns", "a-1", "a", "http", 8080, "TCP", Fixtures.Ep.ready("10.0.0.1"));
        tracker.updateEndpointSlice(null, slice);
        assertEquals(2, tracker.serviceChangesTotal());
        assertEquals(1, tracker.endpointChangesTotal());
        assertEquals(1, tracker.pendingServiceChanges());
        assertEquals(1, tracker.pendingEndpointChanges());
        tracker.snapshot();
        assertEquals(0, tracker.pendingServiceChanges());
        assertEquals(0, tracker.pendingEndpointChanges());
        assertEquals(2, tracker.serviceChangesTotal(), "totals only grow");
    }

    @Test
    void triggerTimesOfAppliedSliceChangesPerFamily() {
        Instant t1 = Instant.now().plusSeconds(1).truncatedTo(ChronoUnit.SECONDS);
        Instant t2 = t1.plusSeconds(2);
        tracker.updateEndpointSlice(null, withTrigger(
                Fixtures.slice("ns", "a-1", "a", "http", 8080, "TCP", Fixtures.Ep.ready("10.0.0.1")), t1));
        tracker.updateEndpointSlice(null, withTrigger(
                Fixtures.slice("ns", "a-2", "a", "http", 8080, "TCP", Fixtures.Ep.ready("fd00::1")), t2));
        assertEquals(Map.of(IpFamily.IPV4, List.of(t1), IpFamily.IPV6, List.of(t2)), tracker.snapshot().triggerTimes());
        assertEquals(Map.of(), tracker.snapshot().triggerTimes(), "measured once");
    }

    @Test
    void triggerTimesBeforeTheProxyStartedOrOfDeletionsAreNotMeasured() {
        var old = withTrigger(Fixtures.slice("ns", "a-1", "a", "http", 8080, "TCP", Fixtures.Ep.ready("10.0.0.1")),
                Instant.now().minusSeconds(3600));
        tracker.updateEndpointSlice(null, old);
        assertEquals(Map.of(), tracker.snapshot().triggerTimes());
        var fresh = withTrigger(old, Instant.now().plusSeconds(5));
        tracker.updateEndpointSlice(fresh, null);
        assertEquals(Map.of(), tracker.snapshot().triggerTimes(), "a deletion's annotation is its last update's");
    }

    @Test
    void nodeBeingDeletedOrTaintedIsNotEligibleWithoutCostingASync() {
        assertTrue(tracker.nodeEligible(), "eligible while starting up");
        Node node = Fixtures.node("node-a", Map.of());
        tracker.updateNode(node);
        tracker.snapshot();
        assertTrue(tracker.nodeEligible());

        tracker.updateNode(new NodeBuilder(node).editMetadata().withDeletionTimestamp("2026-11-23T10:00:00Z").endMetadata().build());
        assertFalse(tracker.nodeEligible());
        assertTrue(tracker.nodeIneligibleReason().orElseThrow().contains("being deleted"));
        assertFalse(tracker.snapshot().nodeChanged(), "no rule depends on it");

        tracker.updateNode(new NodeBuilder(node).editOrNewSpec().addNewTaint().withKey(ChangeTracker.TO_BE_DELETED_TAINT)
                .withEffect("NoSchedule").endTaint().endSpec().build());
        assertFalse(tracker.nodeEligible());
        assertTrue(tracker.nodeIneligibleReason().orElseThrow().contains(ChangeTracker.TO_BE_DELETED_TAINT));

        tracker.updateNode(node);
        assertTrue(tracker.nodeEligible());
        tracker.updateNode(Fixtures.node("other-node", Map.of()));
        assertTrue(tracker.nodeEligible(), "other nodes do not matter");
    }
}
