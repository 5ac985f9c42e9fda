package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortState;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Turns a snapshot into one iptables-restore --noflush payload ("*filter … COMMIT *nat …
 * COMMIT") for one IP family, as upstream's iptables proxier writes it. A pure function of the
 * snapshot, the settings and the rules already on the node (to delete stale chains and add
 * missing jump rules); it runs no command.
 *
 * <p>Threads: one instance per backend, used on the sync thread only; it keeps its line
 * buffers between calls so a big sync does not reallocate them.
 */
final class IptablesRuleWriter {

    /** Above this many endpoints upstream drops per-endpoint comments ("large cluster mode"). */
    static final int LARGE_CLUSTER_ENDPOINTS = 1000;

    private final IpFamily family;
    private final IptablesConfig config;
    private final boolean randomFully;
    private final boolean conntrackTcpLiberal;
    private final Optional<Cidr> localCidr;

    private final LineBuffer filterChains = new LineBuffer();
    private final LineBuffer filterRules = new LineBuffer();
    private final LineBuffer natChains = new LineBuffer();
    private final LineBuffer natRules = new LineBuffer();
    private final StringBuilder payload = new StringBuilder(8192);
    private final ServicePortRules servicePortRules;

    /** What the last {@link #write} produced, for the sync result and metrics. */
    record Stats(int filterRules, int natRules, Set<String> activeNatChains, List<String> deletedChains,
                 List<String> keptStaleChains) {
    }

    private Stats lastStats = new Stats(0, 0, Set.of(), List.of(), List.of());

    /**
     * @param randomFully         MASQUERADE with --random-fully (iptables ≥ 1.6.2 has it)
     * @param conntrackTcpLiberal the host sets nf_conntrack_tcp_be_liberal, so INVALID packets
     *                            are not dropped in KUBE-FORWARD
     */
    IptablesRuleWriter(IpFamily family, IptablesConfig config, boolean randomFully, boolean conntrackTcpLiberal) {
        this.family = Objects.requireNonNull(family, "family");
        this.config = Objects.requireNonNull(config, "config");
        this.randomFully = randomFully;
        this.conntrackTcpLiberal = conntrackTcpLiberal;
        // Upstream's cluster-CIDR local-traffic detector uses one CIDR per family.
        this.localCidr = config.clusterCidrs().stream().filter(c -> c.family() == family).findFirst();
        this.servicePortRules = new ServicePortRules(family, config.masqueradeAll(), localCidr);
    }

    IptablesRuleWriter(IpFamily family, IptablesConfig config) {
        this(family, config, true, false);
    }

    Stats lastStats() {
        return lastStats;
    }

    /**
     * @param existing the node's current nat and filter tables (empty when unknown: then no
     *                 stale chain is deleted and every jump rule is added)
     * @param addJumps add the jump rules from built-in chains that {@code existing} lacks
     *                 (upstream does this on full syncs only)
     */
    String write(ProxySnapshot snapshot, IptablesDump existing, boolean addJumps) {
        filterChains.reset();
        filterRules.reset();
        natChains.reset();
        natRules.reset();

        for (String chain : List.of(ChainNames.SERVICES, ChainNames.EXTERNAL_SERVICES, ChainNames.FORWARD,
                ChainNames.NODE_PORTS, ChainNames.PROXY_FIREWALL, ChainNames.KUBELET_FIREWALL)) {
            filterChains.chainLine(chain);
        }
        for (String chain : List.of(ChainNames.SERVICES, ChainNames.NODE_PORTS, ChainNames.POSTROUTING,
                ChainNames.MARK_MASQ)) {
            natChains.chainLine(chain);
        }
        if (addJumps) {
            writeMissingJumps(existing);
        }
        writeMasqueradeChains();
        if (family == IpFamily.IPV4 && config.localhostNodePorts()) {
            // route_localnet makes 127.0.0.0/8 routable; block what did not come from loopback
            // and was not DNATed by us (CVE-2020-8558). Kubelet writes the same rule.
            filterRules.start("-A").add(ChainNames.KUBELET_FIREWALL)
                    .add("-m", "comment").add("--comment", RuleText.comment("block incoming localnet connections"))
                    .add("-d", "127.0.0.0/8").add("!").add("-s", "127.0.0.0/8")
                    .add("-m", "conntrack").add("!").add("--ctstate", "RELATED,ESTABLISHED,DNAT")
                    .add("-j", "DROP").end();
        }

        int totalEndpoints = 0;
        for (ServicePortState state : snapshot.servicePorts()) {
            for (var ep : state.endpoints()) {
                if (ep.family() == family) {
                    totalEndpoints++;
                }
            }
        }
        boolean largeCluster = totalEndpoints > LARGE_CLUSTER_ENDPOINTS;

        Set<String> active = new HashSet<>();
        ServicePortRules.Buffers buffers = new ServicePortRules.Buffers(filterRules, natChains, natRules, active);
        for (ServicePortState state : snapshot.servicePorts()) {
            servicePortRules.write(state, largeCluster, buffers);
        }

        List<String> deleted = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        deleteStaleChains(existing, active, deleted, kept);
        writeNodePortsJump();
        writeForwardChain();

        payload.setLength(0);
        payload.append("*filter\n").append(filterChains.text()).append(filterRules.text()).append("COMMIT\n");
        payload.append("*nat\n").append(natChains.text()).append(natRules.text()).append("COMMIT\n");
        lastStats = new Stats(filterRules.lines(), natRules.lines() - deleted.size(), Set.copyOf(active),
                List.copyOf(deleted), List.copyOf(kept));
        return payload.toString();
    }

    private void writeMissingJumps(IptablesDump existing) {
        for (JumpRule jump : JumpRule.ALL) {
            if (jump.presentIn(existing)) {
                continue;
            }
            LineBuffer out = jump.table().equals("nat") ? natRules : filterRules;
            out.start("-I").add(jump.chain());
            for (String arg : jump.args()) {
                out.add(arg);
            }
            out.end();
        }
    }

    private void writeMasqueradeChains() {
        String mark = config.masqueradeMark();
        natRules.start("-A").add(ChainNames.POSTROUTING).add("-m", "mark").add("!")
                .add("--mark", mark + "/" + mark).add("-j", "RETURN").end();
        // Clear the mark so a packet that passes the stack again is not masqueraded twice.
        natRules.start("-A").add(ChainNames.POSTROUTING).add("-j", "MARK").add("--xor-mark", mark).end();
        natRules.start("-A").add(ChainNames.POSTROUTING)
                .add("-m", "comment").add("--comment", RuleText.comment("kubernetes service traffic requiring SNAT"))
                .add("-j", "MASQUERADE");
        if (randomFully) {
            natRules.add("--random-fully");
        }
        natRules.end();
        natRules.start("-A").add(ChainNames.MARK_MASQ).add("-j", "MARK").add("--or-mark", mark).end();
    }

    /**
     * Flushes and deletes our per-service chains that this sync no longer uses. A chain that a
     * rule outside this payload still jumps to (someone else's chain) cannot be deleted; it is
     * left alone rather than failing the whole restore.
     */
    private void deleteStaleChains(IptablesDump existing, Set<String> active, List<String> deleted, List<String> kept) {
        IptablesDump.Table nat = existing.table("nat");
        Set<String> stale = new HashSet<>();
        for (String chain : nat.chains().keySet()) {
            if (ChainNames.isServiceChain(chain) && !active.contains(chain)) {
                stale.add(chain);
            }
        }
        Set<String> referencedFromOutside = new HashSet<>();
        for (IptablesDump.Chain chain : nat.chains().values()) {
            if (stale.contains(chain.name()) || rewritten(chain.name(), active)) {
                continue;
            }
            for (IptablesDump.Rule rule : chain.rules()) {
                if (stale.contains(rule.target())) {
                    referencedFromOutside.add(rule.target());
                }
            }
        }
        for (String chain : nat.chains().keySet()) {
            if (!stale.contains(chain)) {
                continue;
            }
            if (referencedFromOutside.contains(chain)) {
                kept.add(chain);
                continue;
            }
            natChains.chainLine(chain);
            natRules.line("-X", chain);
            deleted.add(chain);
        }
    }

    /** Chains this payload flushes and rewrites, so their current rules do not count. */
    private static boolean rewritten(String chain, Set<String> active) {
        return active.contains(chain) || chain.equals(ChainNames.SERVICES) || chain.equals(ChainNames.NODE_PORTS)
                || chain.equals(ChainNames.POSTROUTING) || chain.equals(ChainNames.MARK_MASQ);
    }

    /** The last rule of nat KUBE-SERVICES: NodePorts on the node's own addresses. */
    private void writeNodePortsJump() {
        String comment = RuleText.comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain");
        List<Cidr> cidrs = new ArrayList<>();
        boolean matchAll = true;
        for (String entry : config.nodePortAddresses()) {
            if (entry.equals("primary")) {
                matchAll = false;
                continue;
            }
            try {
                Cidr cidr = Cidr.parse(entry);
                if (cidr.family() == family) {
                    cidrs.add(cidr);
                }
                matchAll = false;
            } catch (IllegalArgumentException e) {
                // Rejected when the flag is parsed; ignored here so a sync never fails on it.
            }
        }
        if (cidrs.stream().anyMatch(c -> c.prefixLength() == 0)) {
            matchAll = true;
        }
        if (matchAll) {
            natRules.start("-A").add(ChainNames.SERVICES).add("-m", "comment").add("--comment", comment)
                    .add("-m", "addrtype").add("--dst-type", "LOCAL");
            // Localhost NodePorts never work on IPv6, and on IPv4 only with route_localnet.
            if (family == IpFamily.IPV6) {
                natRules.add("!").add("-d", "::1/128");
            } else if (!config.localhostNodePorts()) {
                natRules.add("!").add("-d", "127.0.0.0/8");
            }
            natRules.add("-j", ChainNames.NODE_PORTS).end();
            return;
        }
        // Specific --nodeport-addresses need the node's interface addresses: issue 3.
        for (InetAddress ip : nodePortIPs(cidrs)) {
            natRules.start("-A").add(ChainNames.SERVICES).add("-m", "comment").add("--comment", comment)
                    .add("-d", IpAddresses.format(ip)).add("-j", ChainNames.NODE_PORTS).end();
        }
    }

    private List<InetAddress> nodePortIPs(List<Cidr> cidrs) {
        return List.of();
    }

    private void writeForwardChain() {
        String mark = config.masqueradeMark();
        if (!conntrackTcpLiberal) {
            // Out-of-window packets would otherwise reach pods un-NATed and be reset (#74839).
            filterRules.start("-A").add(ChainNames.FORWARD).add("-m", "conntrack").add("--ctstate", "INVALID")
                    .add("-j", "DROP").end();
        }
        filterRules.start("-A").add(ChainNames.FORWARD)
                .add("-m", "comment").add("--comment", RuleText.comment("kubernetes forwarding rules"))
                .add("-m", "mark").add("--mark", mark + "/" + mark).add("-j", "ACCEPT").end();
        filterRules.start("-A").add(ChainNames.FORWARD)
                .add("-m", "comment").add("--comment", RuleText.comment("kubernetes forwarding conntrack rule"))
                .add("-m", "conntrack").add("--ctstate", "RELATED,ESTABLISHED").add("-j", "ACCEPT").end();
    }
}
