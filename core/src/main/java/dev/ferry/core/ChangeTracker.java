package dev.ferry.core;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;

import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The one place sources report to: Services, EndpointSlices and this node's Node. Changes are
 * coalesced per object; {@link #snapshot()} folds them into the applied state and returns what
 * the node must now serve.
 *
 * <p>Threads: the {@code update*} methods run on source threads and then call the change
 * listener (normally the sync runner's {@code request}) and, for this node's Node, the node
 * listener ({@link #onNodeUpdate}) outside any lock. {@link #snapshot()}
 * runs on the sync thread only; the applied state below is confined to that thread.
 */
public final class ChangeTracker {

    private final String hostname;
    private final ServiceChangeTracker services;
    private final EndpointSliceChangeTracker slices;
    private final Runnable onChange;
    private final Problems problems;
    /** Told of this node's every update (set once, before the source starts); may be null. */
    private volatile Consumer<NodeInfo> nodeListener;

    private final Object nodeLock = new Object();
    private NodeInfo pendingNode;

    // Applied state: touched only by snapshot(), on the sync thread.
    private final Map<NamespacedName, Map<ServicePortName, ServicePort>> appliedServices = new HashMap<>();
    private final Map<NamespacedName, EndpointSliceInfo> appliedSlices = new HashMap<>();
    private final Map<NamespacedName, Set<NamespacedName>> slicesByService = new HashMap<>();
    private final TreeMap<ServicePortName, ServicePortState> states = new TreeMap<>(ProxySnapshot.ORDER);
    private NodeInfo node;
    private volatile InetAddress primaryOverride; // --bind-address; null: the Node's own
    private long generation;

    /** Why this node should stop receiving load-balancer traffic; null while it is eligible. Read by /healthz. */
    private volatile String nodeIneligible;

    /** Upstream's taint of a node the cluster autoscaler is about to delete. */
    public static final String TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler";

    /**
     * @param hostname this node's name: endpoints on it are local, and its Node is the one watched
     * @param problems where invalid objects are reported
     * @param onChange called after every update that leaves a change pending
     */
    public ChangeTracker(String hostname, Problems problems, Runnable onChange) {
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.services = new ServiceChangeTracker(problems);
        this.slices = new EndpointSliceChangeTracker(hostname, problems);
        this.onChange = Objects.requireNonNull(onChange, "onChange");
        this.problems = Objects.requireNonNull(problems, "problems");
        this.node = new NodeInfo(hostname, Map.of());
    }

    public String hostname() {
        return hostname;
    }

    /**
     * Makes {@code primary} this node's primary address of its family, whatever its Node lists
     * (upstream's --bind-address). Call before the first update.
     */
    public void overridePrimaryAddress(InetAddress primary) {
        synchronized (nodeLock) {
            primaryOverride = Objects.requireNonNull(primary, "primary");
            node = node.withPrimary(primary);
        }
    }

    public void updateService(Service previous, Service current) {
        if (services.update(previous, current)) {
            onChange.run();
        }
    }

    public void updateEndpointSlice(EndpointSlice previous, EndpointSlice current) {
        if (slices.update(previous, current)) {
            onChange.run();
        }
    }

    /** Only this node's Node matters; others are ignored. A deleted Node keeps the last labels. */
    public void updateNode(Node current) {
        if (current == null || current.getMetadata() == null || !hostname.equals(current.getMetadata().getName())) {
            return;
        }
        nodeIneligible = ineligibility(current);
        Map<String, String> labels = current.getMetadata().getLabels() == null ? Map.of() : current.getMetadata().getLabels();
        NodeInfo info = new NodeInfo(hostname, labels, nodeAddresses(current), podCidrs(current));
        InetAddress primary = primaryOverride;
        if (primary != null) {
            info = info.withPrimary(primary);
        }
        boolean changed;
        synchronized (nodeLock) {
            changed = !info.equals(pendingNode != null ? pendingNode : node);
            pendingNode = info;
        }
        Consumer<NodeInfo> listener = nodeListener;
        if (listener != null) {
            listener.accept(info); // after pendingNode: a snapshot the listener asks for holds this node
        }
        if (changed) {
            onChange.run();
        }
    }

    /**
     * Tells {@code listener} of every update of this node's Node, on the source's thread, after the
     * tracker holds it and outside any lock (e.g. to wait for its podCIDRs). Set it before the
     * source starts; there is one.
     */
    public void onNodeUpdate(Consumer<NodeInfo> listener) {
        if (nodeListener != null) {
            throw new IllegalStateException("a node listener is already set");
        }
        nodeListener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * As upstream's /healthz decides: a Node being deleted or tainted for deletion by the cluster
     * autoscaler should get no new load-balancer traffic. Not part of {@link NodeInfo}: it changes
     * no rule, so it must not cost a sync.
     */
    private static String ineligibility(Node node) {
        String deletion = node.getMetadata().getDeletionTimestamp();
        if (deletion != null && !deletion.isEmpty()) {
            return "the Node is being deleted (deletionTimestamp " + deletion + ")";
        }
        if (node.getSpec() != null && node.getSpec().getTaints() != null) {
            for (var taint : node.getSpec().getTaints()) {
                if (TO_BE_DELETED_TAINT.equals(taint.getKey())) {
                    return "the Node is tainted " + TO_BE_DELETED_TAINT;
                }
            }
        }
        return null;
    }

    /**
     * Whether this node is eligible for load-balancer traffic: true until a Node update says it is
     * being deleted or tainted {@value #TO_BE_DELETED_TAINT} (upstream: eligible while starting up).
     * Any thread.
     */
    public boolean nodeEligible() {
        return nodeIneligible == null;
    }

    /** Why the node is not eligible, or empty. Any thread. */
    public Optional<String> nodeIneligibleReason() {
        return Optional.ofNullable(nodeIneligible);
    }

    /** Service updates seen so far (kubeproxy_sync_proxy_rules_service_changes_total). Any thread. */
    public long serviceChangesTotal() {
        return services.totalCount();
    }

    /** EndpointSlice updates seen so far (kubeproxy_sync_proxy_rules_endpoint_changes_total). Any thread. */
    public long endpointChangesTotal() {
        return slices.totalCount();
    }

    /** spec.podCIDRs, each parsed; one that does not parse is reported and left out. */
    private List<Cidr> podCidrs(Node node) {
        if (node.getSpec() == null || node.getSpec().getPodCIDRs() == null) {
            return List.of();
        }
        List<String> texts = node.getSpec().getPodCIDRs();
        List<Cidr> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            try {
                out.add(Cidr.parse(texts.get(i)));
            } catch (IllegalArgumentException e) {
                problems.report("Node " + hostname, "spec.podCIDRs[" + i + "]", e.getMessage());
            }
        }
        return out;
    }

    /** InternalIPs, then ExternalIPs; other types and unparsable values are left out. */
    private static List<java.net.InetAddress> nodeAddresses(Node node) {
        List<java.net.InetAddress> out = new ArrayList<>();
        if (node.getStatus() == null || node.getStatus().getAddresses() == null) {
            return out;
        }
        for (String type : List.of("InternalIP", "ExternalIP")) {
            for (var a : node.getStatus().getAddresses()) {
                if (type.equals(a.getType()) && IpAddresses.isValid(a.getAddress())) {
                    out.add(IpAddresses.parse(a.getAddress()));
                }
            }
        }
        return out;
    }

    public int pendingServiceChanges() {
        return services.pendingCount();
    }

    public int pendingEndpointChanges() {
        return slices.pendingCount();
    }

    /**
     * Folds pending changes into the applied state. Sync thread only. The snapshot carries the
     * trigger times of the EndpointSlice changes it folded in ({@link ProxySnapshot#triggerTimes()}).
     */
    public ProxySnapshot snapshot() {
        Set<NamespacedName> changed = new HashSet<>();
        for (ServiceChangeTracker.Change c : services.drain().values()) {
            changed.add(c.service());
            Map<ServicePortName, ServicePort> old = appliedServices.remove(c.service());
            if (old != null) {
                old.keySet().forEach(states::remove);
            }
            if (!c.current().isEmpty()) {
                appliedServices.put(c.service(), c.current());
            }
        }
        Map<NamespacedName, EndpointSliceChangeTracker.Change> sliceChanges;
        Map<IpFamily, List<Instant>> triggerTimes;
        synchronized (slices) { // the changes and their trigger times, from one moment
            sliceChanges = slices.drain();
            triggerTimes = slices.drainTriggerTimes();
        }
        for (EndpointSliceChangeTracker.Change c : sliceChanges.values()) {
            if (c.previous() != null) {
                changed.add(c.previous().service());
                Set<NamespacedName> keys = slicesByService.get(c.previous().service());
                if (keys != null) {
                    keys.remove(c.slice());
                    if (keys.isEmpty()) {
                        slicesByService.remove(c.previous().service());
                    }
                }
                appliedSlices.remove(c.slice());
            }
            if (c.current() != null) {
                changed.add(c.current().service());
                appliedSlices.put(c.slice(), c.current());
                slicesByService.computeIfAbsent(c.current().service(), k -> new HashSet<>()).add(c.slice());
            }
        }
        boolean nodeChanged;
        synchronized (nodeLock) {
            nodeChanged = pendingNode != null && !pendingNode.equals(node);
            if (pendingNode != null) {
                node = pendingNode;
                pendingNode = null;
            }
        }
        Set<NamespacedName> recompute = nodeChanged ? allServices() : changed;
        for (NamespacedName svc : recompute) {
            recompute(svc);
        }
        generation++;
        return new ProxySnapshot(generation, node, states, changed, nodeChanged, triggerTimes);
    }

    private Set<NamespacedName> allServices() {
        return new HashSet<>(appliedServices.keySet());
    }

    /** Rebuilds the states of one Service's ports; its removed ports are already gone. */
    private void recompute(NamespacedName svc) {
        Map<ServicePortName, ServicePort> ports = appliedServices.get(svc);
        if (ports == null) {
            return;
        }
        for (ServicePort port : ports.values()) {
            List<Endpoint> endpoints = endpointsFor(port.name());
            List<Endpoint> v4 = new ArrayList<>();
            List<Endpoint> v6 = new ArrayList<>();
            for (Endpoint ep : endpoints) {
                (ep.family() == IpFamily.IPV4 ? v4 : v6).add(ep);
            }
            states.put(port.name(), new ServicePortState(port, endpoints,
                    EndpointSelector.select(port, v4, node), EndpointSelector.select(port, v6, node)));
        }
    }

    /**
     * Every slice's endpoints for this port, one per "ip:port" (a ready copy wins over an
     * unready duplicate), sorted by that text as upstream sorts them.
     */
    private List<Endpoint> endpointsFor(ServicePortName name) {
        Set<NamespacedName> keys = slicesByService.get(name.service());
        if (keys == null) {
            return List.of();
        }
        EndpointSliceInfo.PortKey portKey = new EndpointSliceInfo.PortKey(name.port(), name.protocol());
        Map<String, Endpoint> byHostPort = new LinkedHashMap<>();
        for (NamespacedName key : keys) {
            List<Endpoint> eps = appliedSlices.get(key).endpointsByPort().get(portKey);
            if (eps == null) {
                continue;
            }
            for (Endpoint ep : eps) {
                byHostPort.merge(ep.hostPort(), ep, (a, b) -> a.ready() || !b.ready() ? a : b);
            }
        }
        List<Endpoint> out = new ArrayList<>(byHostPort.values());
        out.sort((a, b) -> a.hostPort().compareTo(b.hostPort()));
        return out;
    }
}
