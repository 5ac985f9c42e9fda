package dev.ferry.iptables;

import java.util.ArrayList;
import java.util.List;

/**
 * A rule in a built-in chain that sends traffic into one of our chains, e.g. nat PREROUTING
 * → KUBE-SERVICES. Upstream inserts these at the top of the built-in chain ("prepend") on full
 * syncs when missing; they are the only rules we ever put into chains we do not own.
 *
 * @param extraArgs match arguments before the comment, as upstream orders them
 * @param comment   "" for none
 */
record JumpRule(String table, String chain, String target, String comment, List<String> extraArgs) {

    private static final List<String> NEW_ONLY = List.of("-m", "conntrack", "--ctstate", "NEW");

    /** Upstream's list, in upstream's order (each is prepended in turn, so the last ends up first). */
    static final List<JumpRule> ALL = List.of(
            new JumpRule("filter", "INPUT", ChainNames.EXTERNAL_SERVICES, "kubernetes externally-visible service portals", NEW_ONLY),
            new JumpRule("filter", "FORWARD", ChainNames.EXTERNAL_SERVICES, "kubernetes externally-visible service portals", NEW_ONLY),
            new JumpRule("filter", "INPUT", ChainNames.NODE_PORTS, "kubernetes health check service ports", List.of()),
            new JumpRule("filter", "FORWARD", ChainNames.SERVICES, "kubernetes service portals", NEW_ONLY),
            new JumpRule("filter", "OUTPUT", ChainNames.SERVICES, "kubernetes service portals", NEW_ONLY),
            new JumpRule("filter", "FORWARD", ChainNames.FORWARD, "kubernetes forwarding rules", List.of()),
            new JumpRule("filter", "INPUT", ChainNames.PROXY_FIREWALL, "kubernetes load balancer firewall", NEW_ONLY),
            new JumpRule("filter", "OUTPUT", ChainNames.PROXY_FIREWALL, "kubernetes load balancer firewall", NEW_ONLY),
            new JumpRule("filter", "FORWARD", ChainNames.PROXY_FIREWALL, "kubernetes load balancer firewall", NEW_ONLY),
            new JumpRule("nat", "OUTPUT", ChainNames.SERVICES, "kubernetes service portals", List.of()),
            new JumpRule("nat", "PREROUTING", ChainNames.SERVICES, "kubernetes service portals", List.of()),
            new JumpRule("nat", "POSTROUTING", ChainNames.POSTROUTING, "kubernetes postrouting rules", List.of()),
            // Kubelet's anti-martian chain, which upstream kube-proxy also ensures.
            new JumpRule("filter", "INPUT", ChainNames.KUBELET_FIREWALL, "", List.of()),
            new JumpRule("filter", "OUTPUT", ChainNames.KUBELET_FIREWALL, "", List.of()));

    JumpRule {
        extraArgs = List.copyOf(extraArgs);
    }

    /** The rule's arguments after the chain name, as written to iptables-restore. */
    List<String> args() {
        List<String> args = new ArrayList<>(extraArgs);
        if (!comment.isEmpty()) {
            args.add("-m");
            args.add("comment");
            args.add("--comment");
            args.add(RuleText.comment(comment));
        }
        args.add("-j");
        args.add(target);
        return args;
    }

    /** The restore line that adds this jump with {@code op} ("-I" to prepend, "-A" to append), without "\n". */
    String line(String op) {
        return op + " " + chain + " " + String.join(" ", args());
    }

    /**
     * Whether the dump already has this jump. iptables-save may reorder matches, so a rule
     * counts when it is in the right chain, has our target and our comment.
     */
    boolean presentIn(IptablesDump dump) {
        return dump.table(table).chain(chain)
                .map(c -> c.rules().stream().anyMatch(r -> r.target().equals(target) && r.comment().equals(comment)))
                .orElse(false);
    }
}
