package dev.ferry.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Upstream's endpoint selection (pkg/proxy/topology.go): readiness, the serving-and-terminating
 * fallback (separately for the cluster and the local set), topology hints (same node, then same
 * zone; hints only narrow the cluster set) and traffic policies.
 */
public final class EndpointSelector {

    private EndpointSelector() {
    }

    public static EndpointSelection select(ServicePort port, List<Endpoint> endpoints, NodeInfo node) {
        List<Endpoint> cluster = List.of();
        boolean hasAny = false;
        if (port.usesClusterEndpoints()) {
            Predicate<Endpoint> topology = topologyFilter(endpoints, node);
            cluster = filter(endpoints, ep -> ep.ready() && topology.test(ep));
            if (cluster.isEmpty()) {
                // No ready endpoint anywhere (topology never empties a non-empty ready set).
                cluster = filter(endpoints, ep -> ep.serving() && ep.terminating());
            }
            hasAny = !cluster.isEmpty();
        }
        if (!port.usesLocalEndpoints()) {
            return new EndpointSelection(cluster, List.of(), cluster, hasAny);
        }

        boolean localReady = false;
        boolean localTerminating = false;
        for (Endpoint ep : endpoints) {
            if (ep.ready()) {
                hasAny = true;
                localReady |= ep.local();
            } else if (ep.serving() && ep.terminating()) {
                hasAny = true;
                localTerminating |= ep.local();
            }
        }
        List<Endpoint> local = List.of();
        if (localReady) {
            local = filter(endpoints, ep -> ep.local() && ep.ready());
        } else if (localTerminating) {
            local = filter(endpoints, ep -> ep.local() && ep.serving() && ep.terminating());
        }

        if (!port.usesClusterEndpoints() || cluster.isEmpty()) {
            return new EndpointSelection(cluster, local, local, hasAny);
        }
        if (local.isEmpty()) {
            return new EndpointSelection(cluster, local, cluster, hasAny);
        }
        Set<Endpoint> union = new LinkedHashSet<>(cluster);
        union.addAll(local);
        return new EndpointSelection(cluster, local, new ArrayList<>(union), hasAny);
    }

    /**
     * Which ready endpoints topology allows: those hinted for this node when every ready endpoint
     * has node hints and one names this node; else those hinted for this zone when every ready
     * endpoint has zone hints and one names this zone; else all.
     */
    static Predicate<Endpoint> topologyFilter(List<Endpoint> endpoints, NodeInfo node) {
        boolean allNodeHints = true;
        boolean forThisNode = false;
        boolean allZoneHints = true;
        boolean forThisZone = false;
        boolean anyReady = false;
        String zone = node.zone();
        for (Endpoint ep : endpoints) {
            if (!ep.ready()) {
                continue;
            }
            anyReady = true;
            if (ep.nodeHints().isEmpty()) {
                allNodeHints = false;
            } else if (ep.nodeHints().contains(node.name())) {
                forThisNode = true;
            }
            if (ep.zoneHints().isEmpty()) {
                allZoneHints = false;
            } else if (!zone.isEmpty() && ep.zoneHints().contains(zone)) {
                forThisZone = true;
            }
        }
        if (anyReady && allNodeHints && forThisNode) {
            return ep -> ep.nodeHints().contains(node.name());
        }
        if (anyReady && allZoneHints && forThisZone) {
            return ep -> ep.zoneHints().contains(zone);
        }
        return ep -> true;
    }

    private static List<Endpoint> filter(List<Endpoint> endpoints, Predicate<Endpoint> keep) {
        List<Endpoint> out = new ArrayList<>(endpoints.size());
        for (Endpoint ep : endpoints) {
            if (keep.test(ep)) {
                out.add(ep);
            }
        }
        return out;
    }
}
