package dev.ferry.core;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
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
final class EndpointSliceChangeTracker {

    /** One slice's change; either side null when the slice is absent or invalid. */
    record Change(NamespacedName slice, EndpointSliceInfo previous, EndpointSliceInfo current) {
    }

    /** Set by the EndpointSlice controller: when the change that produced this slice version happened. */
    static final String TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time";

    private final String hostname;
    private final Problems problems;
    private final Instant start;
    private final Map<NamespacedName, Change> pending = new HashMap<>();
    /** Per Service, the trigger times of its pending slice changes, per address family. */
    private final Map<NamespacedName, Map<IpFamily, List<Instant>>> triggerTimes = new HashMap<>();
    private long updates; // every update seen (kubeproxy_sync_proxy_rules_endpoint_changes_total)

    EndpointSliceChangeTracker(String hostname, Problems problems) {
        this(hostname, problems, Instant.now());
    }

    /** @param start trigger times before this are not ours to measure (they predate this proxy) */
    EndpointSliceChangeTracker(String hostname, Problems problems, Instant start) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.problems = Objects.requireNonNull(problems, "problems");
        this.start = Objects.requireNonNull(start, "start");
    }

    /**
     * Records that a slice went from {@code previous} to {@code current} (null for add or delete).
     *
     * @return whether a change is now pending for it
     */
    synchronized boolean update(EndpointSlice previous, EndpointSlice current) {
        if (previous != null || current != null) {
            updates++;
        }
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
        noteTriggerTime(current != null ? current : previous, after, current == null);
        return true;
    }

    /**
     * As upstream: a change's trigger time is measured when it is applied; a deleted slice's
     * annotation dates from its last update, not from the deletion, so a deletion drops the
     * Service's times instead. Times before this tracker started, or unreadable, are skipped.
     */
    private void noteTriggerTime(EndpointSlice slice, EndpointSliceInfo info, boolean deleted) {
        NamespacedName service = info != null ? info.service() : serviceOf(slice);
        if (service == null) {
            return;
        }
        if (deleted) {
            triggerTimes.remove(service);
            return;
        }
        IpFamily family = "IPv6".equals(slice.getAddressType()) ? IpFamily.IPV6
                : "IPv4".equals(slice.getAddressType()) ? IpFamily.IPV4 : null;
        Map<String, String> annotations = slice.getMetadata().getAnnotations();
        String text = annotations == null ? null : annotations.get(TRIGGER_TIME_ANNOTATION);
        if (family == null || text == null) {
            return;
        }
        try {
            Instant t = OffsetDateTime.parse(text).toInstant();
            if (t.isAfter(start)) {
                triggerTimes.computeIfAbsent(service, s -> new EnumMap<>(IpFamily.class))
                        .computeIfAbsent(family, f -> new ArrayList<>()).add(t);
            }
        } catch (DateTimeParseException e) {
            // not a time: nothing to measure (the data plane does not depend on it)
        }
    }

    private static NamespacedName serviceOf(EndpointSlice slice) {
        NamespacedName key = EndpointSliceConverter.key(slice);
        Map<String, String> labels = slice.getMetadata().getLabels();
        String name = labels == null ? null : labels.get(EndpointSliceConverter.SERVICE_NAME_LABEL);
        return key == null || name == null || name.isEmpty() ? null : new NamespacedName(key.namespace(), name);
    }

    /** Updates seen so far, whether or not they left a change pending (as upstream counts them). */
    synchronized long totalCount() {
        return updates;
    }

    /** The trigger times of the changes drained last, per family; called with {@link #drain} under this lock. */
    synchronized Map<IpFamily, List<Instant>> drainTriggerTimes() {
        Map<IpFamily, List<Instant>> out = new EnumMap<>(IpFamily.class);
        for (Map<IpFamily, List<Instant>> byFamily : triggerTimes.values()) {
            byFamily.forEach((family, times) -> out.computeIfAbsent(family, f -> new ArrayList<>()).addAll(times));
        }
        triggerTimes.clear();
        return out;
    }

    synchronized int pendingCount() {
        return pending.size();
    }

    synchronized Map<NamespacedName, Change> drain() {
        Map<NamespacedName, Change> out = new HashMap<>(pending);
        pending.clear();
        return out;
    }
}
