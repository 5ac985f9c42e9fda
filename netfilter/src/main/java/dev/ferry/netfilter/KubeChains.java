package dev.ferry.netfilter;

/**
 * What we own in iptables: chains named KUBE-*, and the rules in built-in chains that jump
 * into one of them. Nothing else on the node is ever changed.
 */
public final class KubeChains {

    /** The prefix of every chain any mode creates. */
    public static final String PREFIX = "KUBE-";

    private KubeChains() {
    }

    /** Every chain we may create is named KUBE-*; nothing else is ours. */
    public static boolean isOurs(String chain) {
        return chain.startsWith(PREFIX);
    }
}
