package dev.ferry.iptables;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortName;
import dev.ferry.core.ServicePortPlan;
import dev.ferry.core.ServicePortState;
import dev.ferry.netfilter.CleanupPlan;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.JumpRule;
import dev.ferry.netfilter.LineBuffer;
import dev.ferry.netfilter.NodePortAddresses;
import dev.ferry.netfilter.RuleText;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Turns a snapshot into one iptables-restore --noflush payload ("*filter … COMMIT *nat …
 * COMMIT") for one IP family, as upstream's iptables proxier writes it. It runs no command:
 * what is on the node comes in as a dump or as what the last committed write put there.
 *
 * <p>A full write rewrites every chain. A partial write rewrites only the own chains of service
 * ports whose state changed, and of the shared chains (nat KUBE-SERVICES, KUBE-NODEPORTS,
 * KUBE-POSTROUTING, KUBE-MARK-MASQ; the filter ones) only those whose rules differ from what
 * the last committed write put there ({@link TopChains}); the shared lines of unchanged ports
 * are copied from the cached fragment of the last committed write, so its cost follows the
 * change, not the cluster. Of a changed port, endpoint chains the last write had with the
 * same rules are kept, not written again. A table with nothing to write is left out of the
 * payload, and a payload with no table at all is not restored.
 *
 * <p>This deviates from upstream, which rewrites the shared chains in every partial sync. At
 * 10k Services nat KUBE-SERVICES has 10,001 rules, and restoring it dominates a partial sync
 * whose change is one endpoint (about 1.2 s of 1.3 s with iptables-nft); an endpoint-only
 * change leaves it as it is (upstream also rewrites every endpoint chain of a changed port). What it costs: a shared chain edited by hand is repaired at the
 * next full sync (hourly, after any failure, or when the canary is gone) rather than at the
 * next sync, as upstream already treats a hand-edited chain of an unchanged Service.
 *
 * <p>Threads: one instance per backend, used on the sync thread only; it keeps its line
 * buffers between calls so a big sync does not reallocate them. {@link #commit} after the
 * payload was applied, so the cache always describes the node.
 */
final class IptablesRuleWriter {

    /** Above this many endpoints upstream drops per-endpoint comments ("large cluster mode"). */
    static final int LARGE_CLUSTER_ENDPOINTS = 1000;

    /**
     * nat text per endpoint (its SEP chain's two rules and its line in the SVC chain) and per
     * service port (the KUBE-SERVICES and masquerade rules), measured at 10k Services with
     * 10 endpoints: estimates for sizing the buffers of a first full sync.
     */
    static final int NAT_RULE_CHARS_PER_ENDPOINT = 260;
    static final int NAT_RULE_CHARS_PER_PORT = 330;
    /** Of which its KUBE-SERVICES line (about 140 characters). */
    static final int NAT_SERVICES_CHARS_PER_PORT = 160;
    static final int CHAIN_LINE_CHARS = 36;
    /** Payload buffers up to this size stay allocated between writes (a partial write's are far smaller). */
    static final int KEEP_CHARS = 1 << 20;

    private static final String MANGLE_CANARY = "*mangle\n:" + ChainNames.CANARY + " - [0:0]\nCOMMIT\n";

    private final IpFamily family;
    private final IptablesConfig config;
    private final boolean randomFully;
    /** What {@link #write(ProxySnapshot, IptablesDump, boolean)} and its twin assume of the host. */
    private final boolean conntrackTcpLiberal;
    /** Other modes' chains, removed (with the jumps to them) by a full write that read the node. */
    private final Predicate<String> leftovers;

    private final LineBuffer filterChains = new LineBuffer();
    private final LineBuffer filterRules = new LineBuffer();
    private final LineBuffer natChains = new LineBuffer();
    /** nat rules of per-service chains, chain deletions and jump inserts. */
    private final LineBuffer natRules = new LineBuffer();
    /** Our filter chains (declared in upstream's order; rules in the order upstream writes them). */
    private final TopChains filterTop = new TopChains(
            List.of(ChainNames.SERVICES, ChainNames.EXTERNAL_SERVICES, ChainNames.FORWARD, ChainNames.NODE_PORTS,
                    ChainNames.PROXY_FIREWALL, ChainNames.KUBELET_FIREWALL),
            List.of(ChainNames.KUBELET_FIREWALL, ChainNames.SERVICES, ChainNames.EXTERNAL_SERVICES,
                    ChainNames.NODE_PORTS, ChainNames.PROXY_FIREWALL, ChainNames.FORWARD));
    /** The shared nat chains; a full write puts KUBE-SERVICES last (its NodePorts jump is its last rule). */
    private final TopChains natTop = new TopChains(
            List.of(ChainNames.SERVICES, ChainNames.NODE_PORTS, ChainNames.POSTROUTING, ChainNames.MARK_MASQ),
            List.of(ChainNames.POSTROUTING, ChainNames.MARK_MASQ, ChainNames.NODE_PORTS, ChainNames.SERVICES));
    private final ServicePortRules servicePortRules;

    /** Fragments of the last committed write, and of the write waiting for its commit. */
    private Map<ServicePortName, ServicePortRules.Fragment> committed = new HashMap<>();
    private Map<ServicePortName, ServicePortRules.Fragment> pending;

    /**
     * What one write needs besides the snapshot.
     *
     * @param full           rewrite every chain (else only changed service ports' own chains)
     * @param existing       the node's nat and filter tables when just read, else null: then
     *                       the last committed write says which chains exist
     * @param canary         declare KUBE-PROXY-CANARY in mangle, filter and nat
     * @param localAddresses the node's interface addresses (only used with --nodeport-addresses CIDRs)
     * @param conntrackTcpLiberal the host sets nf_conntrack_tcp_be_liberal, so INVALID packets are
     *                       not dropped in KUBE-FORWARD
     */
    record Request(boolean full, IptablesDump existing, boolean canary, Collection<InetAddress> localAddresses,
                   boolean conntrackTcpLiberal) {
    }

    /** What one {@link #write} produced: the restore input, and its figures for the sync result and metrics. */
    record Written(Payload payload, Stats stats) {
    }

    /** What one {@link #write} produced, for the sync result and metrics. */
    record Stats(int filterRules, int natRules, int servicePortsWritten, List<String> deletedChains,
                 List<String> keptStaleChains, int filterRulesOwned, int natRulesOwned, int natJumps) {
    }

    /** Jump rules from built-in chains in the current write: filter, nat. */
    private final int[] jumpsWritten = new int[2];

    /**
     * @param randomFully         MASQUERADE with --random-fully (iptables ≥ 1.6.2 has it)
     * @param conntrackTcpLiberal for the one-shot writes below: the host sets
     *                            nf_conntrack_tcp_be_liberal, so INVALID packets are not dropped in
     *                            KUBE-FORWARD (a {@link Request} says it for each write)
     * @param leftovers           other modes' chains, removed with the jumps to them by a full write
     *                            that read the node
     */
    IptablesRuleWriter(IpFamily family, IptablesConfig config, boolean randomFully, boolean conntrackTcpLiberal,
                       Predicate<String> leftovers) {
        this.family = Objects.requireNonNull(family, "family");
        this.config = Objects.requireNonNull(config, "config");
        this.randomFully = randomFully;
        this.conntrackTcpLiberal = conntrackTcpLiberal;
        this.leftovers = Objects.requireNonNull(leftovers, "leftovers");
        this.servicePortRules = new ServicePortRules();
    }

    IptablesRuleWriter(IpFamily family, IptablesConfig config, boolean randomFully, boolean conntrackTcpLiberal) {
        this(family, config, randomFully, conntrackTcpLiberal, chain -> false);
    }

    IptablesRuleWriter(IpFamily family, IptablesConfig config) {
        this(family, config, true, false);
    }

    /** Whether this family serves NodePorts on 127.0.0.1 (needs route_localnet), as upstream decides. */
    boolean localhostNodePorts(ProxySnapshot snapshot) {
        return family == IpFamily.IPV4 && config.localhostNodePorts()
                && nodePortAddresses(snapshot).containsIPv4Loopback();
    }

    /** Whether {@link #write} will need the node's interface addresses. */
    boolean needsLocalAddresses(ProxySnapshot snapshot) {
        return !nodePortAddresses(snapshot).matchAll();
    }

    private NodePortAddresses nodePortAddresses(ProxySnapshot snapshot) {
        return NodePortAddresses.of(family, config.network().nodePortAddresses(), snapshot.node());
    }

    /**
     * A full write against a known dump, committed at once (for tests and one-shot use).
     *
     * @param addJumps add the jump rules from built-in chains that {@code existing} lacks
     */
    String write(ProxySnapshot snapshot, IptablesDump existing, boolean addJumps) {
        String text = write(snapshot, new Request(true, existing, false, List.of(), conntrackTcpLiberal), addJumps)
                .payload().toString();
        commit();
        return text;
    }

    /** A full write whose nodeport rules use these interface addresses; committed at once. */
    String write(ProxySnapshot snapshot, IptablesDump existing, Collection<InetAddress> localAddresses) {
        String text = write(snapshot, new Request(true, existing, false, localAddresses, conntrackTcpLiberal), false)
                .payload().toString();
        commit();
        return text;
    }

    /**
     * The payload for {@code request}, with its figures; call {@link #commit} once it was applied
     * (which empties the payload).
     */
    Written write(ProxySnapshot snapshot, Request request) {
        return write(snapshot, request, request.full() && request.existing() != null);
    }

    /**
     * The last write was applied: its fragments now describe the node.
     *
     * @return our filter chains with all their rules as they now are on the node (whether or not
     *         the write rewrote them), without its jump inserts: small (no per-endpoint rules), kept
     *         to roll a later failed write back when no dump was read
     */
    String commit() {
        if (pending != null) {
            committed = pending;
            pending = null;
        }
        filterTop.commit();
        natTop.commit();
        // The payload is on the node now. What a full write of a large cluster took (31 MB at 10k
        // Services x 10 endpoints) goes back to the heap; partial writes need little, and the
        // next full write reserves what it needs.
        for (LineBuffer b : List.of(filterChains, filterRules, natChains, natRules)) {
            b.release(KEEP_CHARS);
        }
        return filterTop.wholeSection("filter");
    }

    /** The last write was not applied: forget it (the next write should be full). */
    void abandon() {
        pending = null;
        filterTop.abandon();
        natTop.abandon();
    }

    private Written write(ProxySnapshot snapshot, Request request, boolean addJumps) {
        Objects.requireNonNull(snapshot, "snapshot");
        filterChains.reset();
        filterRules.reset();
        natChains.reset();
        natRules.reset();
        filterTop.reset();
        natTop.reset();

        jumpsWritten[0] = 0;
        jumpsWritten[1] = 0;
        if (addJumps) {
            writeMissingJumps(request.existing());
        }
        writeMasqueradeChains();
        NodePortAddresses nodePortAddresses = nodePortAddresses(snapshot);
        boolean localhostNodePorts = family == IpFamily.IPV4 && config.localhostNodePorts()
                && nodePortAddresses.containsIPv4Loopback();
        if (localhostNodePorts) {
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
            totalEndpoints += countOfFamily(state);
        }
        boolean largeCluster = totalEndpoints > LARGE_CLUSTER_ENDPOINTS;
        ServicePortPlan.Planner planner = config.network().planner(family, snapshot.node());

        int ports = snapshot.servicePorts().size();
        if (request.full()) {
            // A new backend's first full sync would otherwise grow its buffers by doubling
            // (copying tens of MB at 10k Services); sized from the snapshot, a long-lived
            // backend's buffers are already this big and nothing happens.
            // (natRules gets a little more than it needs: the per-port figure includes the
            // KUBE-SERVICES line, which goes to its own buffer; better than one doubling.)
            natRules.reserve(NAT_RULE_CHARS_PER_ENDPOINT * (long) totalEndpoints + NAT_RULE_CHARS_PER_PORT * (long) ports);
            natTop.rules(ChainNames.SERVICES).reserve(NAT_SERVICES_CHARS_PER_PORT * (long) ports);
            natChains.reserve(CHAIN_LINE_CHARS * ((long) totalEndpoints + ports));
        }
        Map<ServicePortName, ServicePortRules.Fragment> next = new HashMap<>(Math.max(16, Math.max(committed.size(), ports) * 2));
        Set<NamespacedName> changed = snapshot.changedServices();
        Set<String> stale = new HashSet<>();
        Set<String> written = new HashSet<>(request.full() ? Math.max(16, (totalEndpoints + ports) * 2) : 16);
        int servicePortsWritten = 0;
        int keptNatRules = 0; // rules of unchanged service ports' own chains, not written again
        LineBuffer natServices = natTop.rules(ChainNames.SERVICES);
        LineBuffer natNodePorts = natTop.rules(ChainNames.NODE_PORTS);
        for (ServicePortState state : snapshot.servicePorts()) {
            ServicePortRules.Fragment old = committed.get(state.name());
            ServicePortRules.Fragment fragment;
            if (!request.full() && old != null && old.largeCluster == largeCluster
                    && (old.state == state || (!changed.contains(state.name().service()) && old.state.equals(state)))) {
                fragment = old; // unchanged: its own chains stay as they are on the node
                keptNatRules += old.ownedRuleLines;
                natServices.append(old.natServices, old.natServicesLines);
                natNodePorts.append(old.natNodePorts, old.natNodePortsLines);
                filterRules.append(old.filter, old.filterLines);
            } else {
                Optional<ServicePortPlan> plan = planner.plan(state);
                fragment = plan.isEmpty() ? null // this family's backend does not serve the port
                        : servicePortRules.write(plan.get(), largeCluster, old, !request.full(), natChains, natRules);
                servicePortsWritten++;
                if (fragment != null) {
                    natServices.append(fragment.natServices, fragment.natServicesLines);
                    natNodePorts.append(fragment.natNodePorts, fragment.natNodePortsLines);
                    filterRules.append(fragment.filter, fragment.filterLines);
                    written.addAll(fragment.chains);
                }
                if (old != null && !request.full()) {
                    stale.addAll(old.chains);
                }
            }
            if (fragment != null) {
                next.put(state.name(), fragment);
            }
        }

        List<String> deleted = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        if (request.full()) {
            if (request.existing() != null) {
                deleteStaleChains(request.existing(), written, deleted, kept);
                removeLeftovers(request.existing(), kept);
            } else {
                for (ServicePortRules.Fragment old : committed.values()) {
                    stale.addAll(old.chains);
                }
                deleteChains(stale, written, deleted);
            }
        } else {
            for (Map.Entry<ServicePortName, ServicePortRules.Fragment> e : committed.entrySet()) {
                if (!next.containsKey(e.getKey())) {
                    stale.addAll(e.getValue().chains); // the service port is gone
                }
            }
            deleteChains(stale, written, deleted);
        }
        writeNodePortsJump(nodePortAddresses, localhostNodePorts, request.localAddresses());
        writeForwardChain(request.conntrackTcpLiberal());

        filterTop.split(filterRules.text());
        filterTop.decide(request.full(), request.canary());
        natTop.decide(request.full(), request.canary());

        Payload payload = new Payload();
        if (request.canary()) {
            payload.add(MANGLE_CANARY);
        }
        if (!filterTop.nothingToWrite()) {
            filterTop.appendDeclarations(filterChains.text());
            payload.add("*filter\n").add(filterChains.text());
            filterTop.appendRules(payload);
            payload.add("COMMIT\n");
        }
        if (!natTop.nothingToWrite() || natChains.text().length() > 0 || natRules.text().length() > 0) {
            // Shared chains declared first, as upstream does; then our per-service chains.
            StringBuilder declarations = new StringBuilder(256);
            natTop.appendDeclarations(declarations);
            payload.add("*nat\n").add(declarations).add(natChains.text()).add(natRules.text());
            natTop.appendRules(payload);
            payload.add("COMMIT\n");
        }
        pending = next;
        int natWritten = natRules.lines() + natTop.lines() - deleted.size();
        for (ServicePortRules.Fragment f : next.values()) {
            if (f != committed.get(f.state.name())) {
                keptNatRules += f.ownedRuleLines - f.ownRuleLines; // endpoint chains kept by a rewrite
            }
        }
        // owned: the rules in our chains (the jumps from built-in chains are not counted, as upstream)
        Stats stats = new Stats(filterRules.lines(), natWritten, servicePortsWritten, List.copyOf(deleted),
                List.copyOf(kept), filterRules.lines() - jumpsWritten[0], natWritten + keptNatRules - jumpsWritten[1],
                jumpsWritten[1]);
        return new Written(payload, stats);
    }

    private int countOfFamily(ServicePortState state) {
        int n = 0;
        for (var ep : state.endpoints()) {
            if (ep.family() == family) {
                n++;
            }
        }
        return n;
    }

    /** Flushes and deletes {@code stale} chains this write does not declare again. */
    private void deleteChains(Set<String> stale, Set<String> written, List<String> deleted) {
        for (String chain : stale) {
            if (!written.contains(chain)) {
                natChains.chainLine(chain);
                natRules.line("-X", chain);
                deleted.add(chain);
            }
        }
    }

    private void writeMissingJumps(IptablesDump existing) {
        for (JumpRule jump : ChainNames.JUMPS) {
            if (jump.presentIn(existing)) {
                continue;
            }
            boolean nat = jump.table().equals("nat");
            (nat ? natRules : filterRules).append(jump.line("-I") + "\n", 1);
            jumpsWritten[nat ? 1 : 0]++;
        }
    }

    private void writeMasqueradeChains() {
        String mark = config.network().masqueradeMark();
        LineBuffer postrouting = natTop.rules(ChainNames.POSTROUTING);
        postrouting.start("-A").add(ChainNames.POSTROUTING).add("-m", "mark").add("!")
                .add("--mark", mark + "/" + mark).add("-j", "RETURN").end();
        // Clear the mark so a packet that passes the stack again is not masqueraded twice.
        postrouting.start("-A").add(ChainNames.POSTROUTING).add("-j", "MARK").add("--xor-mark", mark).end();
        postrouting.start("-A").add(ChainNames.POSTROUTING)
                .add("-m", "comment").add("--comment", RuleText.comment("kubernetes service traffic requiring SNAT"))
                .add("-j", "MASQUERADE");
        if (randomFully) {
            postrouting.add("--random-fully");
        }
        postrouting.end();
        natTop.rules(ChainNames.MARK_MASQ).start("-A").add(ChainNames.MARK_MASQ).add("-j", "MARK").add("--or-mark", mark).end();
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

    /**
     * Other modes' chains and the jumps to them, left by a proxy that ran in such a mode here
     * (userspace mode's portals would redirect Service traffic to listeners that are gone).
     * Removed on a full sync that read the node, as upstream removes the other modes' leftovers.
     */
    private void removeLeftovers(IptablesDump existing, List<String> kept) {
        for (String table : List.of("nat", "filter")) {
            if (!existing.tableNames().contains(table)) {
                continue;
            }
            StringBuilder chains = new StringBuilder();
            StringBuilder rules = new StringBuilder();
            int lines = CleanupPlan.removeFrom(existing.table(table), leftovers, chains, rules, kept);
            if (chains.length() > 0) {
                LineBuffer chainOut = table.equals("nat") ? natChains : filterChains;
                LineBuffer ruleOut = table.equals("nat") ? natRules : filterRules;
                chainOut.append(chains.toString(), (int) chains.chars().filter(ch -> ch == '\n').count());
                ruleOut.append(rules.toString(), lines);
            }
        }
    }

    /**
     * Whether a full write needs the current rules of this chain from the node: built-in
     * chains (missing jumps), the whole filter table (small; the roll-back restores it), and
     * nat chains this write neither rewrites nor deletes (a foreign reference pins a stale
     * chain). The rules of per-service chains and of the shared nat chains never count, so a
     * read may skip them; see {@link #deleteStaleChains} and {@link #rewritten}.
     */
    static boolean readsRulesOf(String table, String chain) {
        return !table.equals("nat") || !(ChainNames.isServiceChain(chain) || chain.equals(ChainNames.SERVICES)
                || chain.equals(ChainNames.NODE_PORTS) || chain.equals(ChainNames.POSTROUTING)
                || chain.equals(ChainNames.MARK_MASQ));
    }

    /** Chains this payload flushes and rewrites, so their current rules do not count. */
    private static boolean rewritten(String chain, Set<String> active) {
        return active.contains(chain) || chain.equals(ChainNames.SERVICES) || chain.equals(ChainNames.NODE_PORTS)
                || chain.equals(ChainNames.POSTROUTING) || chain.equals(ChainNames.MARK_MASQ);
    }

    /** The last rule of nat KUBE-SERVICES: NodePorts on the node's own addresses. */
    private void writeNodePortsJump(NodePortAddresses addresses, boolean localhostNodePorts,
                                    Collection<InetAddress> localAddresses) {
        LineBuffer natServices = natTop.rules(ChainNames.SERVICES);
        String comment = RuleText.comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain");
        if (addresses.matchAll()) {
            natServices.start("-A").add(ChainNames.SERVICES).add("-m", "comment").add("--comment", comment)
                    .add("-m", "addrtype").add("--dst-type", "LOCAL");
            // Localhost NodePorts never work on IPv6, and on IPv4 only with route_localnet.
            if (family == IpFamily.IPV6) {
                natServices.add("!").add("-d", "::1/128");
            } else if (!localhostNodePorts) {
                natServices.add("!").add("-d", "127.0.0.0/8");
            }
            natServices.add("-j", ChainNames.NODE_PORTS).end();
            return;
        }
        for (InetAddress ip : addresses.nodeIPs(localAddresses)) {
            if (ip.isLoopbackAddress() && (family == IpFamily.IPV6 || !localhostNodePorts)) {
                continue; // upstream logs this and leaves the address out
            }
            natServices.start("-A").add(ChainNames.SERVICES).add("-m", "comment").add("--comment", comment)
                    .add("-d", IpAddresses.format(ip)).add("-j", ChainNames.NODE_PORTS).end();
        }
    }

    private void writeForwardChain(boolean conntrackTcpLiberal) {
        String mark = config.network().masqueradeMark();
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
