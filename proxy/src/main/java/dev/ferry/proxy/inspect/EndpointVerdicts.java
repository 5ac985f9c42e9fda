package dev.ferry.proxy.inspect;

import dev.ferry.core.Endpoint;
import dev.ferry.core.EndpointSelection;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortState;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Why each endpoint of a service port is used on this node or not. The decision itself is the
 * core's ({@link dev.ferry.core.EndpointSelector}, upstream's CategorizeEndpoints, already in the
 * snapshot); this only explains it from the endpoint's conditions, hints and node.
 */
final class EndpointVerdicts {

    /**
     * One endpoint's fate.
     *
     * @param cluster used for cluster-wide traffic (KUBE-SVC-*, or every IPVS real server)
     * @param local   used for Local traffic policy (KUBE-SVL-*)
     * @param reason  why, in a few words
     */
    record Verdict(Endpoint endpoint, boolean cluster, boolean local, String reason) {
        boolean in() {
            return cluster || local;
        }

        /** "in (cluster)", "in (cluster+local)", "out". */
        String status() {
            if (!in()) {
                return "out";
            }
            return "in (" + (cluster && local ? "cluster+local" : cluster ? "cluster" : "local") + ")";
        }
    }

    private EndpointVerdicts() {
    }

    static List<Verdict> of(ServicePortState state, NodeInfo node) {
        List<Verdict> out = new ArrayList<>();
        for (Endpoint ep : state.endpoints()) {
            EndpointSelection sel = state.selection(ep.family());
            boolean cluster = sel.clusterEndpoints().contains(ep);
            boolean local = sel.localEndpoints().contains(ep);
            out.add(new Verdict(ep, cluster, local, reason(state.port(), ep, cluster, local, node)));
        }
        return out;
    }

    static String reason(ServicePort port, Endpoint ep, boolean cluster, boolean local, NodeInfo node) {
        if (cluster || local) {
            String why = ep.ready() ? "ready" : "terminating but serving, used as a fallback (no ready endpoint"
                    + (local && !cluster ? " on this node)" : ")");
            if (port.usesLocalEndpoints() && port.usesClusterEndpoints() && cluster && !local) {
                why += "; not local, so not used for external traffic (Local traffic policy)";
            }
            return why;
        }
        if (!ep.ready()) {
            if (ep.terminating()) {
                return ep.serving() ? "terminating (not used as a fallback: ready endpoints exist)"
                        : "terminating and not serving";
            }
            return "not ready";
        }
        if (!port.usesClusterEndpoints() && !ep.local()) {
            return "not local (Local traffic policy; endpoint on node " + nodeName(ep) + ")";
        }
        if (!ep.nodeHints().isEmpty() && !ep.nodeHints().contains(node.name())) {
            return "hinted for other nodes " + new TreeSet<>(ep.nodeHints()) + " (topology hints)";
        }
        if (!ep.zoneHints().isEmpty()) {
            return "other zone: hinted for " + new TreeSet<>(ep.zoneHints()) + ", this node is in "
                    + (node.zone().isEmpty() ? "no zone" : "zone " + node.zone()) + " (topology hints)";
        }
        return "ready but not selected";
    }

    private static String nodeName(Endpoint ep) {
        return ep.nodeName().isEmpty() ? "(none)" : ep.nodeName();
    }
}
