package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTraffic;
import dev.ferry.netfilter.JumpRule;
import dev.ferry.netfilter.LocalTrafficMatch;
import dev.ferry.netfilter.NetworkSettings;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Pure: the ipsets of one family → the iptables-restore input (--noflush) of upstream's IPVS
 * mode, rule for rule as upstream's writeIptablesRules writes it (pkg/proxy/ipvs/proxier.go):
 * nat first, then filter; every chain of ours is declared (which flushes it) and refilled.
 * Jumps from built-in chains are written only for those the caller found missing.
 */
final class IpvsRuleWriter {

    private record SetRule(KubeIpSet set, String table, String from, String to, String matchType, String protocol) {
    }

    /**
     * Upstream's ipsetWithIptablesChain: a rule per non-empty set. Local NodePort sets come before
     * the masquerading ones so Local traffic RETURNs before it is marked.
     */
    private static final List<SetRule> SET_RULES = List.of(
            new SetRule(KubeIpSet.LOOP_BACK, "nat", IpvsChains.POSTROUTING, "MASQUERADE", "dst,dst,src", ""),
            new SetRule(KubeIpSet.LOAD_BALANCER, "nat", IpvsChains.SERVICES, IpvsChains.LOAD_BALANCER, "dst,dst", ""),
            new SetRule(KubeIpSet.LOAD_BALANCER_LOCAL, "nat", IpvsChains.LOAD_BALANCER, "RETURN", "dst,dst", ""),
            new SetRule(KubeIpSet.NODE_PORT_LOCAL_TCP, "nat", IpvsChains.NODE_PORT, "RETURN", "dst", "tcp"),
            new SetRule(KubeIpSet.NODE_PORT_TCP, "nat", IpvsChains.NODE_PORT, IpvsChains.MARK_MASQ, "dst", "tcp"),
            new SetRule(KubeIpSet.NODE_PORT_LOCAL_UDP, "nat", IpvsChains.NODE_PORT, "RETURN", "dst", "udp"),
            new SetRule(KubeIpSet.NODE_PORT_UDP, "nat", IpvsChains.NODE_PORT, IpvsChains.MARK_MASQ, "dst", "udp"),
            new SetRule(KubeIpSet.NODE_PORT_LOCAL_SCTP, "nat", IpvsChains.NODE_PORT, "RETURN", "dst,dst", "sctp"),
            new SetRule(KubeIpSet.NODE_PORT_SCTP, "nat", IpvsChains.NODE_PORT, IpvsChains.MARK_MASQ, "dst,dst", "sctp"),
            new SetRule(KubeIpSet.LOAD_BALANCER_FW, "filter", IpvsChains.PROXY_FIREWALL,
                    IpvsChains.SOURCE_RANGES_FIREWALL, "dst,dst", ""),
            new SetRule(KubeIpSet.LOAD_BALANCER_SOURCE_CIDR, "filter", IpvsChains.SOURCE_RANGES_FIREWALL,
                    "RETURN", "dst,dst,src", ""),
            new SetRule(KubeIpSet.LOAD_BALANCER_SOURCE_IP, "filter", IpvsChains.SOURCE_RANGES_FIREWALL,
                    "RETURN", "dst,dst,src", ""));

    private final IpFamily family;
    private final NetworkSettings config;
    private final boolean randomFully;

    /**
     * @param config      masquerade bit and --masquerade-all
     * @param randomFully iptables supports MASQUERADE --random-fully (1.6.2 and later)
     */
    IpvsRuleWriter(IpFamily family, NetworkSettings config, boolean randomFully) {
        this.family = Objects.requireNonNull(family, "family");
        this.config = Objects.requireNonNull(config, "config");
        this.randomFully = randomFully;
    }

    /**
     * Upstream formats the mark with Go's %#08x, which pads the digits (not the "0x") to eight:
     * bit 14 is "0x00004000". iptables-save prints it back as 0x4000.
     */
    String mark() {
        return String.format("0x%08x", 1 << config.masqueradeBit());
    }

    /**
     * @param local        the family's local-traffic detector on this node (the ClusterIP masquerade rule)
     * @param missingJumps jumps from built-in chains that are not there yet (prepended with -I)
     */
    String write(IpvsSets sets, LocalTraffic local, Collection<JumpRule> missingJumps) {
        if (sets.family() != family) {
            throw new IllegalArgumentException("sets are " + sets.family() + ", writer is " + family);
        }
        Objects.requireNonNull(local, "local");
        StringBuilder nat = new StringBuilder(2048);
        StringBuilder filter = new StringBuilder(2048);
        nat.append("*nat\n");
        for (String chain : IpvsChains.NAT) {
            nat.append(':').append(chain).append(" - [0:0]\n");
        }
        filter.append("*filter\n");
        for (String chain : IpvsChains.FILTER) {
            filter.append(':').append(chain).append(" - [0:0]\n");
        }
        for (JumpRule jump : missingJumps) {
            (jump.table().equals("nat") ? nat : filter).append(jump.line("-I")).append('\n');
        }

        // Upstream lets connections from localhost leave KUBE-SERVICES before any set match.
        line(nat, "-A", IpvsChains.SERVICES, "-s", family.loopback().toString(), "-j", "RETURN");

        for (SetRule rule : SET_RULES) {
            if (sets.isEmpty(rule.set())) {
                continue;
            }
            StringBuilder out = rule.table().equals("nat") ? nat : filter;
            out.append("-A ").append(rule.from());
            if (!rule.protocol().isEmpty()) {
                out.append(" -p ").append(rule.protocol());
            }
            out.append(' ').append(commentMatch(rule.set()))
                    .append(" -m set --match-set ").append(sets.name(rule.set())).append(' ').append(rule.matchType())
                    .append(" -j ").append(rule.to()).append('\n');
        }

        if (!sets.isEmpty(KubeIpSet.CLUSTER_IP)) {
            String match = "-A " + IpvsChains.SERVICES + " " + commentMatch(KubeIpSet.CLUSTER_IP)
                    + " -m set --match-set " + sets.name(KubeIpSet.CLUSTER_IP);
            if (config.masqueradeAll()) {
                nat.append(match).append(" dst,dst -j ").append(IpvsChains.MARK_MASQ).append('\n');
            } else if (local.detects()) {
                // Off-cluster traffic to a ClusterIP may bounce off-node: masquerade it.
                nat.append(match).append(" dst,dst ").append(String.join(" ", LocalTrafficMatch.ifNotLocal(local)))
                        .append(" -j ").append(IpvsChains.MARK_MASQ).append('\n');
            } else {
                // No local-traffic detector: masquerade node-originated traffic whose source is a VIP
                // (kube-ipvs0 holds every VIP, so the kernel may pick one as source).
                nat.append(match).append(" src,dst -j ").append(IpvsChains.MARK_MASQ).append('\n');
            }
        }

        if (!sets.isEmpty(KubeIpSet.EXTERNAL_IP)) {
            String match = "-A " + IpvsChains.SERVICES + " " + commentMatch(KubeIpSet.EXTERNAL_IP)
                    + " -m set --match-set " + sets.name(KubeIpSet.EXTERNAL_IP) + " dst,dst";
            nat.append(match).append(" -j ").append(IpvsChains.MARK_MASQ).append('\n');
            externalAccept(nat, match);
        }
        if (!sets.isEmpty(KubeIpSet.EXTERNAL_IP_LOCAL)) {
            externalAccept(nat, "-A " + IpvsChains.SERVICES + " " + commentMatch(KubeIpSet.EXTERNAL_IP_LOCAL)
                    + " -m set --match-set " + sets.name(KubeIpSet.EXTERNAL_IP_LOCAL) + " dst,dst");
        }

        line(nat, "-A", IpvsChains.SERVICES, "-m", "addrtype", "--dst-type", "LOCAL", "-j", IpvsChains.NODE_PORT);
        line(nat, "-A", IpvsChains.LOAD_BALANCER, "-j", IpvsChains.MARK_MASQ);
        line(filter, "-A", IpvsChains.SOURCE_RANGES_FIREWALL, "-j", "DROP");

        // The node's own connections to a LoadBalancer IP whose source ranges leave it out
        // (for IPVS both source and destination are the LB IP; kubernetes#119656).
        for (IpvsSets.NoNodeAccess entry : sets.noNodeAccess()) {
            line(filter, "-A", IpvsChains.IPVS_OUT_FILTER, "-s", entry.ip(), "-m", "ipvs", "--vaddr", entry.ip(),
                    "--vproto", entry.protocol().lower(), "--vport", Integer.toString(entry.port()), "-j", "DROP");
        }

        // Accept traffic to virtual services in case other rules would block it; last in KUBE-SERVICES.
        for (KubeIpSet set : List.of(KubeIpSet.CLUSTER_IP, KubeIpSet.LOAD_BALANCER)) {
            if (!sets.isEmpty(set)) {
                line(nat, "-A", IpvsChains.SERVICES, "-m", "set", "--match-set", sets.name(set), "dst,dst", "-j", "ACCEPT");
            }
        }

        String mark = mark();
        line(filter, "-A", IpvsChains.FORWARD, "-m", "comment", "--comment", "\"kubernetes forwarding rules\"",
                "-m", "mark", "--mark", mark + "/" + mark, "-j", "ACCEPT");
        line(filter, "-A", IpvsChains.FORWARD, "-m", "comment", "--comment", "\"kubernetes forwarding conntrack rule\"",
                "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT");
        filter.append("-A ").append(IpvsChains.NODE_PORT).append(' ').append(commentMatch(KubeIpSet.HEALTH_CHECK_NODE_PORT))
                .append(" -m set --match-set ").append(sets.name(KubeIpSet.HEALTH_CHECK_NODE_PORT)).append(" dst -j ACCEPT\n");

        // No host port is reachable through a VIP except the service's own (kubernetes#72236).
        for (KubeIpSet set : List.of(KubeIpSet.LOAD_BALANCER, KubeIpSet.CLUSTER_IP, KubeIpSet.EXTERNAL_IP,
                KubeIpSet.EXTERNAL_IP_LOCAL)) {
            line(filter, "-A", IpvsChains.IPVS_FILTER, "-m", "set", "--match-set", sets.name(set), "dst,dst", "-j", "RETURN");
        }
        line(filter, "-A", IpvsChains.IPVS_FILTER, "-m", "set", "--match-set",
                sets.name(KubeIpSet.HEALTH_CHECK_NODE_PORT), "dst", "-j", "RETURN");
        line(filter, "-A", IpvsChains.IPVS_FILTER, "-m", "conntrack", "--ctstate", "NEW",
                "-m", "set", "--match-set", sets.name(KubeIpSet.IPVS_IPS), "dst", "-j", "REJECT");

        line(nat, "-A", IpvsChains.POSTROUTING, "-m", "mark", "!", "--mark", mark + "/" + mark, "-j", "RETURN");
        // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
        line(nat, "-A", IpvsChains.POSTROUTING, "-j", "MARK", "--xor-mark", mark);
        nat.append("-A ").append(IpvsChains.POSTROUTING)
                .append(" -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE")
                .append(randomFully ? " --random-fully\n" : "\n");
        line(nat, "-A", IpvsChains.MARK_MASQ, "-j", "MARK", "--or-mark", mark);

        nat.append("COMMIT\n");
        filter.append("COMMIT\n");
        return nat.append(filter).toString();
    }

    /**
     * Traffic to an external IP from off the machine and not from a bridge (i.e. not from a pod),
     * and traffic to an external IP that is local to this node, is accepted as is.
     */
    private static void externalAccept(StringBuilder nat, String match) {
        nat.append(match).append(" -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT\n");
        nat.append(match).append(" -m addrtype --dst-type LOCAL -j ACCEPT\n");
    }

    private static String commentMatch(KubeIpSet set) {
        return "-m comment --comment \"" + set.comment() + "\"";
    }

    private static void line(StringBuilder out, String... words) {
        out.append(String.join(" ", words)).append('\n');
    }
}
