package dev.ferry.netfilter;

import java.util.Set;

/**
 * What we own in iptables: kube-proxy's chains, named KUBE-*, and the rules in built-in chains
 * that jump into one of them. The kubelet's KUBE-* chains are not ours: no mode deletes them,
 * neither at start nor at --cleanup, as upstream kube-proxy keeps them. Nothing else on the node
 * is ever changed.
 */
public final class KubeChains {

    /** The prefix of every chain any mode creates. */
    public static final String PREFIX = "KUBE-";

    /**
     * The kubelet's chains (pkg/kubelet/kubelet_network_linux.go in v1.34): KUBE-IPTABLES-HINT in
     * mangle, its canary KUBE-KUBELET-CANARY in mangle, nat and filter, and the anti-martian
     * KUBE-FIREWALL in filter, which upstream's iptables mode also writes (its
     * iptablesKubeletJumpChains) but never deletes. Also KUBE-MARK-DROP, which kubelets before
     * 1.28 created and no kube-proxy mode has used since; upstream's cleanups leave it too.
     */
    public static final Set<String> KUBELET = Set.of("KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY", "KUBE-FIREWALL",
            "KUBE-MARK-DROP");

    private KubeChains() {
    }

    /** Every chain we may create or delete is named KUBE-* and is not the kubelet's; nothing else is ours. */
    public static boolean isOurs(String chain) {
        return chain.startsWith(PREFIX) && !KUBELET.contains(chain);
    }
}
