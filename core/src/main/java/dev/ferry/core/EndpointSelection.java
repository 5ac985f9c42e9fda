package dev.ferry.core;

import java.util.List;

/**
 * The endpoints a service port uses on this node, as upstream's CategorizeEndpoints decides.
 *
 * @param clusterEndpoints      for cluster-wide traffic policy (ready, topology-filtered; else
 *                              serving-and-terminating); empty when the port uses none
 * @param localEndpoints        for Local traffic policy: this node's ready endpoints, else its
 *                              serving-and-terminating ones; empty when the port uses none
 * @param allReachable          the union of the two
 * @param hasAnyEndpoints       some usable endpoint exists anywhere in the cluster
 */
public record EndpointSelection(
        List<Endpoint> clusterEndpoints,
        List<Endpoint> localEndpoints,
        List<Endpoint> allReachable,
        boolean hasAnyEndpoints) {

    public static final EndpointSelection NONE = new EndpointSelection(List.of(), List.of(), List.of(), false);

    public EndpointSelection {
        clusterEndpoints = List.copyOf(clusterEndpoints);
        localEndpoints = List.copyOf(localEndpoints);
        allReachable = List.copyOf(allReachable);
    }
}
