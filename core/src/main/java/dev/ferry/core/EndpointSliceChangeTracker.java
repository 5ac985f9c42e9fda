package dev.ferry.core;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Pending EndpointSlice changes, coalesced per slice: (last applied, current). An update that
 * changes nothing the data plane uses (resourceVersion, labels other than the service name,
 * targetRef) drops out.
 *
 * <p>Threads: {@link #update} on source threads, {@link #drain} on the sync thread; every
 * method holds this object's lock. Invalid slices are reported and count as absent.
 */
public final class EndpointSliceChangeTracker {

    /** One slice's change; either side null when the slice is absent or invalid. */
    record Change(NamespacedName slice, EndpointSliceInfo previous, EndpointSliceInfo current) {
    }

    private final String hostname;
    private final Problems problems;
    private final Map<NamespacedName, Change> pending = new HashMap<>();

    EndpointSliceChangeTracker(String hostname, Problems problems) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.problems = Objects.requireNonNull(problems, "problems");
    }

    /**
     * Records that a slice went from {@code previous} to {@code current} (null for add or delete).
     *
     * @return whether a change is now pending for it
     */
    public synchronized boolean update(EndpointSlice previous, EndpointSlice current) {
        NamespacedName key = EndpointSliceConverter.key(current != null ? current : previous);
        if (key == null) {
            EndpointSliceConverter.convert(current, hostname, problems);
            return false;
        }
        Change change = pending.get(key);
        EndpointSliceInfo before = change != null ? change.previous()
                : EndpointSliceConverter.convert(previous, hostname, Problems.IGNORE);
        EndpointSliceInfo after = EndpointSliceConverter.convert(current, hostname, problems);
        if (Objects.equals(before, after)) {
            pending.remove(key);
            return false;
        }
        pending.put(key, new Change(key, before, after));
        return true;
    }

    public synchronized int pendingCount() {
        return pending.size();
    }

    synchronized Map<NamespacedName, Change> drain() {
        Map<NamespacedName, Change> out = new HashMap<>(pending);
        pending.clear();
        return out;
    }
}
