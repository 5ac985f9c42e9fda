package dev.ferry.iptables;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Problems;
import dev.ferry.core.ProxySnapshot;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;

import java.util.ArrayList;
import java.util.List;

/** Builds snapshots the way the proxy does: API objects through core's ChangeTracker. */
public final class TestSnapshots {

    public static final String NODE = "test-node";

    private final ChangeTracker tracker;
    final List<String> problems = new ArrayList<>();

    public TestSnapshots() {
        Problems p = (object, field, message) -> problems.add(object + " " + field + ": " + message);
        tracker = new ChangeTracker(NODE, p, () -> { });
    }

    public TestSnapshots add(Service... services) {
        for (Service s : services) {
            tracker.updateService(null, s);
        }
        return this;
    }

    public TestSnapshots remove(Service s) {
        tracker.updateService(s, null);
        return this;
    }

    public TestSnapshots add(EndpointSlice... slices) {
        for (EndpointSlice s : slices) {
            tracker.updateEndpointSlice(null, s);
        }
        return this;
    }

    public TestSnapshots node(io.fabric8.kubernetes.api.model.Node node) {
        tracker.updateNode(node);
        return this;
    }

    public ProxySnapshot snapshot() {
        return tracker.snapshot();
    }
}
