package dev.ferry.userspace;

import java.util.List;

/**
 * Userspace mode's portal chains (upstream's names): nat for ClusterIPs, external and
 * load-balancer IPs, then NodePorts; "CONTAINER" chains see traffic arriving from other hosts
 * and pods (PREROUTING), "HOST" chains traffic the node itself sends (OUTPUT).
 */
final class PortalChains {

    static final String PORTALS_CONTAINER = "KUBE-PORTALS-CONTAINER";
    static final String PORTALS_HOST = "KUBE-PORTALS-HOST";
    static final String NODEPORT_CONTAINER = "KUBE-NODEPORT-CONTAINER";
    static final String NODEPORT_HOST = "KUBE-NODEPORT-HOST";
    /** filter: accepts NodePort traffic to the proxy ports despite a default-deny INPUT. */
    static final String NODEPORT_NON_LOCAL = "KUBE-NODEPORT-NON-LOCAL";

    /** The portal chains of nat, in the order declared. */
    static final List<String> NAT = List.of(PORTALS_CONTAINER, PORTALS_HOST, NODEPORT_CONTAINER, NODEPORT_HOST);

    private PortalChains() {
    }

    /** The userspace mode's chains (nat and filter); other modes remove them when the node switches. */
    static boolean isPortalChain(String chain) {
        return NAT.contains(chain) || chain.equals(NODEPORT_NON_LOCAL);
    }
}
