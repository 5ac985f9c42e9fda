package dev.ferry.ipvs;

import dev.ferry.netfilter.JumpRule;

import java.util.List;

/** The iptables chains of upstream's IPVS mode (iptablesChains in pkg/proxy/ipvs/proxier.go). */
final class IpvsChains {

    static final String SERVICES = "KUBE-SERVICES";
    static final String POSTROUTING = "KUBE-POSTROUTING";
    static final String NODE_PORT = "KUBE-NODE-PORT";
    static final String LOAD_BALANCER = "KUBE-LOAD-BALANCER";
    static final String MARK_MASQ = "KUBE-MARK-MASQ";
    static final String FORWARD = "KUBE-FORWARD";
    static final String PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
    static final String SOURCE_RANGES_FIREWALL = "KUBE-SOURCE-RANGES-FIREWALL";
    static final String IPVS_FILTER = "KUBE-IPVS-FILTER";
    static final String IPVS_OUT_FILTER = "KUBE-IPVS-OUT-FILTER";

    /** nat chains, in upstream's order. */
    static final List<String> NAT = List.of(SERVICES, POSTROUTING, NODE_PORT, LOAD_BALANCER, MARK_MASQ);

    /** filter chains, in upstream's order (KUBE-NODE-PORT exists in both tables). */
    static final List<String> FILTER = List.of(FORWARD, NODE_PORT, PROXY_FIREWALL, SOURCE_RANGES_FIREWALL,
            IPVS_FILTER, IPVS_OUT_FILTER);

    /** Whether this mode writes {@code chain} in {@code table} (nat KUBE-SERVICES is ours; filter KUBE-SERVICES is not). */
    static boolean uses(String table, String chain) {
        return switch (table) {
            case "nat" -> NAT.contains(chain);
            case "filter" -> FILTER.contains(chain);
            default -> false;
        };
    }

    /**
     * The jumps from built-in chains into ours (upstream's iptablesJumpChain in
     * pkg/proxy/ipvs/proxier.go), in upstream's order; each is prepended in turn when missing.
     */
    static final List<JumpRule> JUMPS = List.of(
            jump("nat", "OUTPUT", SERVICES, "kubernetes service portals"),
            jump("nat", "PREROUTING", SERVICES, "kubernetes service portals"),
            jump("nat", "POSTROUTING", POSTROUTING, "kubernetes postrouting rules"),
            jump("filter", "FORWARD", FORWARD, "kubernetes forwarding rules"),
            jump("filter", "INPUT", NODE_PORT, "kubernetes health check rules"),
            jump("filter", "INPUT", PROXY_FIREWALL, "kube-proxy firewall rules"),
            jump("filter", "FORWARD", PROXY_FIREWALL, "kube-proxy firewall rules"),
            jump("filter", "INPUT", IPVS_FILTER, "kubernetes ipvs access filter"),
            jump("filter", "OUTPUT", IPVS_OUT_FILTER, "kubernetes ipvs access filter"));

    private static JumpRule jump(String table, String chain, String target, String comment) {
        return new JumpRule(table, chain, target, comment, List.of());
    }

    private IpvsChains() {
    }
}
