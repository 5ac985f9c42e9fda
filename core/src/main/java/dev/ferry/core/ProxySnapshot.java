package dev.ferry.core;

import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * What this node must serve at one moment: every service port with its selected endpoints,
 * and what changed since the previous snapshot. Immutable; every backend reads the same type.
 */
public final class ProxySnapshot {

    /** Sorted by upstream's port name text, then protocol, so generated output is stable. */
    public static final Comparator<ServicePortName> ORDER =
            Comparator.comparing(ServicePortName::toString).thenComparing(ServicePortName::protocol);

    private final long generation;
    private final NodeInfo node;
    private final NavigableMap<ServicePortName, ServicePortState> servicePorts;
    private final Set<NamespacedName> changedServices;
    private final boolean nodeChanged;
    private final Map<IpFamily, List<Instant>> triggerTimes;

    /** A snapshot without trigger times (tests, cleanup). */
    public ProxySnapshot(long generation, NodeInfo node, NavigableMap<ServicePortName, ServicePortState> servicePorts,
                         Set<NamespacedName> changedServices, boolean nodeChanged) {
        this(generation, node, servicePorts, changedServices, nodeChanged, Map.of());
    }

    /**
     * @param triggerTimes per family, the EndpointSlice trigger times of the changes folded into this snapshot
     */
    public ProxySnapshot(long generation, NodeInfo node, NavigableMap<ServicePortName, ServicePortState> servicePorts,
                         Set<NamespacedName> changedServices, boolean nodeChanged,
                         Map<IpFamily, List<Instant>> triggerTimes) {
        this.generation = generation;
        this.node = node;
        TreeMap<ServicePortName, ServicePortState> copy = new TreeMap<>(ORDER);
        copy.putAll(servicePorts);
        this.servicePorts = Collections.unmodifiableNavigableMap(copy);
        this.changedServices = Set.copyOf(changedServices);
        this.nodeChanged = nodeChanged;
        this.triggerTimes = Map.copyOf(triggerTimes);
    }

    /** Counts snapshots; 1 for the first. */
    public long generation() {
        return generation;
    }

    public NodeInfo node() {
        return node;
    }

    /** All service ports, in {@link #ORDER}. */
    public Collection<ServicePortState> servicePorts() {
        return servicePorts.values();
    }

    public NavigableMap<ServicePortName, ServicePortState> servicePortMap() {
        return servicePorts;
    }

    /** Services whose ports or endpoints changed since the previous snapshot. */
    public Set<NamespacedName> changedServices() {
        return changedServices;
    }

    /**
     * The EndpointSlice trigger times (annotation endpoints.kubernetes.io/last-change-trigger-time)
     * of the changes this snapshot folded in, per family, for kubeproxy_network_programming_duration_seconds.
     */
    public Map<IpFamily, List<Instant>> triggerTimes() {
        return triggerTimes;
    }

    /** {@link #triggerTimes()} of one family. */
    public List<Instant> triggerTimes(IpFamily family) {
        return triggerTimes.getOrDefault(family, List.of());
    }

    /** This node's labels changed, so every selection may differ: backends sync in full. */
    public boolean nodeChanged() {
        return nodeChanged;
    }
}
