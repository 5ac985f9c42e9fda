package dev.ferry.core;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Pending Service changes, coalesced per Service: (what was last applied, what is current now).
 * An update that returns a Service to what was applied drops out, so no-ops cost no sync.
 *
 * <p>Threads: {@link #update} runs on source threads (informer callbacks, the file watcher);
 * {@link #drain} on the sync thread. Every method holds this object's lock; conversion happens
 * under it but is cheap. Invalid Services are reported and count as absent.
 */
final class ServiceChangeTracker {

    /** One Service's change: its ports before the pending updates and after them. */
    record Change(NamespacedName service, Map<ServicePortName, ServicePort> previous,
                  Map<ServicePortName, ServicePort> current) {
    }

    private final Problems problems;
    private final Map<NamespacedName, Change> pending = new HashMap<>();
    private long updates; // every update seen (kubeproxy_sync_proxy_rules_service_changes_total)

    ServiceChangeTracker(Problems problems) {
        this.problems = Objects.requireNonNull(problems, "problems");
    }

    /**
     * Records that a Service went from {@code previous} to {@code current} (null for add or delete).
     *
     * @return whether a change is now pending for it
     */
    synchronized boolean update(Service previous, Service current) {
        if (previous != null || current != null) {
            updates++;
        }
        NamespacedName key = key(current != null ? current : previous);
        if (key == null) {
            // Nothing to key it by; still tell the operator when it is new input.
            ServiceConverter.convert(current, problems);
            return false;
        }
        Change change = pending.get(key);
        Map<ServicePortName, ServicePort> before = change != null ? change.previous()
                : ServiceConverter.convert(previous, Problems.IGNORE);
        Map<ServicePortName, ServicePort> after = ServiceConverter.convert(current, problems);
        if (before.equals(after)) {
            pending.remove(key);
            return false;
        }
        pending.put(key, new Change(key, before, after));
        return true;
    }

    /** Updates seen so far, whether or not they left a change pending (as upstream counts them). */
    synchronized long totalCount() {
        return updates;
    }

    synchronized int pendingCount() {
        return pending.size();
    }

    synchronized Map<NamespacedName, Change> drain() {
        Map<NamespacedName, Change> out = new HashMap<>(pending);
        pending.clear();
        return out;
    }

    private static NamespacedName key(Service s) {
        ObjectMeta m = s == null ? null : s.getMetadata();
        if (m == null || m.getName() == null || m.getName().isEmpty()) {
            return null;
        }
        return new NamespacedName(m.getNamespace() == null || m.getNamespace().isEmpty() ? "default" : m.getNamespace(), m.getName());
    }
}
