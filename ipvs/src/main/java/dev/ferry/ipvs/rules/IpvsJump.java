package dev.ferry.ipvs.rules;

import java.util.List;

/**
 * A rule in a built-in chain that sends traffic into one of IPVS mode's chains (upstream's
 * iptablesJumpChain in pkg/proxy/ipvs/proxier.go). Upstream prepends each when missing; these
 * are the only rules we put into chains we do not own.
 */
public record IpvsJump(String table, String chain, String target, String comment) {

    /** Upstream's list and order; each is prepended in turn. */
    public static final List<IpvsJump> ALL = List.of(
            new IpvsJump("nat", "OUTPUT", IpvsChains.SERVICES, "kubernetes service portals"),
            new IpvsJump("nat", "PREROUTING", IpvsChains.SERVICES, "kubernetes service portals"),
            new IpvsJump("nat", "POSTROUTING", IpvsChains.POSTROUTING, "kubernetes postrouting rules"),
            new IpvsJump("filter", "FORWARD", IpvsChains.FORWARD, "kubernetes forwarding rules"),
            new IpvsJump("filter", "INPUT", IpvsChains.NODE_PORT, "kubernetes health check rules"),
            new IpvsJump("filter", "INPUT", IpvsChains.PROXY_FIREWALL, "kube-proxy firewall rules"),
            new IpvsJump("filter", "FORWARD", IpvsChains.PROXY_FIREWALL, "kube-proxy firewall rules"),
            new IpvsJump("filter", "INPUT", IpvsChains.IPVS_FILTER, "kubernetes ipvs access filter"),
            new IpvsJump("filter", "OUTPUT", IpvsChains.IPVS_OUT_FILTER, "kubernetes ipvs access filter"));

    /** The rule's arguments after the chain name, one per element (for `iptables -C`). */
    public List<String> args() {
        return List.of("-m", "comment", "--comment", comment, "-j", target);
    }

    /** The iptables-restore line that prepends this jump. */
    String insertLine() {
        return "-I " + chain + " -m comment --comment \"" + comment + "\" -j " + target;
    }
}
