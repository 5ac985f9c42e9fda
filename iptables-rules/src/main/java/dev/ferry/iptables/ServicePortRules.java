package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.Endpoint;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortPlan;
import dev.ferry.core.ServicePortPlan.InternalMasquerade;
import dev.ferry.core.ServicePortPlan.Route;
import dev.ferry.core.ServicePortState;
import dev.ferry.netfilter.LineBuffer;
import dev.ferry.netfilter.LocalTrafficMatch;
import dev.ferry.netfilter.RuleText;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders the plan of one service port in one IP family ({@link ServicePortPlan}: which
 * endpoints serve which traffic, what is rejected or dropped, what is masqueraded, the
 * firewall) as upstream's iptables proxier writes it: its entries in the shared chains (nat KUBE-SERVICES and KUBE-NODEPORTS; filter
 * KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL, KUBE-NODEPORTS), kept as a
 * {@link Fragment} so a partial sync can reuse them unchanged, and its own nat chains
 * (KUBE-SVC/SVL/EXT/FW and one KUBE-SEP per endpoint), written only when it changed.
 *
 * <p>Threads: one instance per rule writer, sync thread only (it reuses scratch buffers).
 */
final class ServicePortRules {

    /** Every endpoint chain holds two rules: the hairpin masquerade mark and the DNAT. */
    static final int ENDPOINT_CHAIN_RULES = 2;

    /**
     * What one service port contributed to a sync. The shared-chain lines are kept as text;
     * its own chains only by name (to delete them once unused) with the endpoint chain names
     * by "ip:port" (hashing is the costly part of naming, so names are reused).
     */
    static final class Fragment {
        final ServicePortState state;
        final boolean largeCluster;
        /** Its lines in nat KUBE-SERVICES and KUBE-NODEPORTS (kept apart: each chain is compared whole). */
        final String natServices;
        final int natServicesLines;
        final String natNodePorts;
        final int natNodePortsLines;
        final String filter;
        final int filterLines;
        final List<String> chains;
        final int ownRuleLines;
        /** Rules in its own chains on the node after this write: those written plus the endpoint chains kept. */
        final int ownedRuleLines;
        final String svc;
        final String svl;
        final String ext;
        final String fw;
        final Map<String, String> endpointChains;

        Fragment(ServicePortState state, boolean largeCluster, String natServices, int natServicesLines,
                 String natNodePorts, int natNodePortsLines, String filter,
                 int filterLines, List<String> chains, int ownRuleLines, String svc, String svl, String ext,
                 String fw, Map<String, String> endpointChains, int ownedRuleLines) {
            this.state = state;
            this.largeCluster = largeCluster;
            this.natServices = natServices;
            this.natServicesLines = natServicesLines;
            this.natNodePorts = natNodePorts;
            this.natNodePortsLines = natNodePortsLines;
            this.filter = filter;
            this.filterLines = filterLines;
            this.chains = chains;
            this.ownRuleLines = ownRuleLines;
            this.ownedRuleLines = ownedRuleLines;
            this.svc = svc;
            this.svl = svl;
            this.ext = ext;
            this.fw = fw;
            this.endpointChains = endpointChains;
        }
    }

    private final LineBuffer services = new LineBuffer();
    private final LineBuffer nodePorts = new LineBuffer();
    private final LineBuffer filter = new LineBuffer();
    /** Scratch: each endpoint's "ip:port" in the current write (by identity: the selection's own objects). */
    private final Map<Endpoint, String> hostPorts = new IdentityHashMap<>();
    /**
     * @param previous      this port's fragment from an earlier sync, for its chain names; may be null
     * @param previousOnNode {@code previous} is what the node has now (a partial write after a
     *                       committed one): its endpoint chains whose rules would come out the
     *                       same are not written again, only kept
     * @param natChains      where the own chains' ":CHAIN" lines go
     * @param natRules       where the own chains' rules go
     * @return the fragment
     */
    Fragment write(ServicePortPlan plan, boolean largeCluster, Fragment previous, boolean previousOnNode,
                   LineBuffer natChains, LineBuffer natRules) {
        ServicePortState state = plan.state();
        ServicePort port = state.port();
        services.reset();
        nodePorts.reset();
        filter.reset();
        int ownStart = natRules.lines();

        String name = port.name().toString();
        String protocol = port.protocol().lower();
        String ip = IpAddresses.format(plan.clusterIP());
        String dport = Integer.toString(port.port());
        // The chain names' hash input ("ns/svc:port" + protocol), hashed once for SVC/SVL/EXT/FW
        // and reused as the start of every endpoint's input.
        byte[] hashKey = (name + protocol).getBytes(StandardCharsets.UTF_8);
        String svc;
        String svl;
        String ext;
        String fw;
        if (previous != null) {
            svc = previous.svc;
            svl = previous.svl;
            ext = previous.ext;
            fw = previous.fw;
        } else {
            String hash = ChainNames.portHash(hashKey);
            svc = ChainNames.SVC_PREFIX + hash;
            svl = ChainNames.SVL_PREFIX + hash;
            ext = ChainNames.EXT_PREFIX + hash;
            fw = ChainNames.FW_PREFIX + hash;
        }

        List<Endpoint> clusterEndpoints = plan.clusterEndpoints();
        List<Endpoint> localEndpoints = plan.localEndpoints();
        boolean usesClusterChain = plan.usesClusterEndpoints();
        boolean usesLocalChain = plan.usesLocalEndpoints();
        boolean hasEndpoints = plan.hasEndpoints();
        boolean hasInternalEndpoints = plan.internal().served();
        boolean hasExternalEndpoints = plan.external().served();
        String internalChain = plan.internal() == Route.LOCAL ? svl : svc;
        String externalPolicyChain = plan.external() == Route.LOCAL ? svl : svc;

        List<InetAddress> externalIPs = plan.externalIPs();
        List<InetAddress> lbIPs = plan.loadBalancerIPs();
        List<Cidr> sourceRanges = plan.sourceRanges();
        boolean usesExtChain = plan.hasExternalEntry();
        boolean usesFwChain = plan.firewalled();
        String lbChain = usesFwChain ? fw : ext;

        String internalTarget = target(plan.internal());
        String externalTarget = target(plan.external());
        String internalComment = comment(name, plan.internal());
        String externalComment = comment(name, plan.external());

        // ClusterIP.
        String clusterComment = RuleText.comment(name + " cluster IP");
        if (hasInternalEndpoints) {
            destinationRule(services, ChainNames.SERVICES, clusterComment, protocol, ip, dport, internalChain);
        } else {
            destinationRule(filter, ChainNames.SERVICES, internalComment, protocol, ip, dport, internalTarget);
        }

        // External IPs.
        if (!externalIPs.isEmpty()) {
            String externalIPComment = RuleText.comment(name + " external IP");
            for (InetAddress a : externalIPs) {
                String addr = IpAddresses.format(a);
                if (hasEndpoints) {
                    destinationRule(services, ChainNames.SERVICES, externalIPComment, protocol, addr, dport, ext);
                }
                if (!hasExternalEndpoints) {
                    destinationRule(filter, ChainNames.EXTERNAL_SERVICES, externalComment, protocol, addr, dport,
                            externalTarget);
                }
            }
        }

        // Load-balancer IPs; with source ranges, what KUBE-FW does not accept is dropped in
        // filter (it was not DNATed, so it still has the LB IP as destination).
        if (!lbIPs.isEmpty()) {
            String lbComment = RuleText.comment(name + " loadbalancer IP");
            String notAccepted = RuleText.comment(name + " traffic not accepted by " + fw);
            for (InetAddress a : lbIPs) {
                String addr = IpAddresses.format(a);
                if (hasEndpoints) {
                    destinationRule(services, ChainNames.SERVICES, lbComment, protocol, addr, dport, lbChain);
                }
                if (usesFwChain) {
                    destinationRule(filter, ChainNames.PROXY_FIREWALL, notAccepted, protocol, addr, dport, "DROP");
                }
            }
            if (!hasExternalEndpoints) {
                for (InetAddress a : lbIPs) {
                    destinationRule(filter, ChainNames.EXTERNAL_SERVICES, externalComment, protocol,
                            IpAddresses.format(a), dport, externalTarget);
                }
            }
        }

        // NodePort (never subject to source ranges, as upstream).
        if (port.nodePort() != 0) {
            String nodePort = Integer.toString(port.nodePort());
            if (hasEndpoints) {
                nodePorts.start("-A").add(ChainNames.NODE_PORTS).add("-m", "comment").add("--comment", RuleText.comment(name))
                        .add("-m", protocol).add("-p", protocol).add("--dport", nodePort).add("-j", ext).end();
            }
            if (!hasExternalEndpoints) {
                filter.start("-A").add(ChainNames.EXTERNAL_SERVICES).add("-m", "comment").add("--comment", externalComment)
                        .add("-m", "addrtype").add("--dst-type", "LOCAL")
                        .add("-m", protocol).add("-p", protocol).add("--dport", nodePort).add("-j", externalTarget).end();
            }
        }

        // Health check node port: accepted whether or not there are local endpoints.
        if (port.healthCheckNodePort() != 0) {
            filter.start("-A").add(ChainNames.NODE_PORTS)
                    .add("-m", "comment").add("--comment", RuleText.comment(name + " health check node port"))
                    .add("-m", "tcp").add("-p", "tcp").add("--dport", Integer.toString(port.healthCheckNodePort()))
                    .add("-j", "ACCEPT").end();
        }

        // Own chains.
        List<Endpoint> reachable = plan.reachableEndpoints();
        List<String> chains = new ArrayList<>(4 + reachable.size());
        if (plan.internalMasquerade() != InternalMasquerade.NONE) {
            // Masquerade what does not come from a pod: the reply must come back through this
            // node (e.g. a client that routes the service range to any node).
            natRules.start("-A").add(internalChain).add("-m", "comment").add("--comment", clusterComment)
                    .add("-m", protocol).add("-p", protocol).add("-d", ip).add("--dport", dport);
            if (plan.internalMasquerade() == InternalMasquerade.NOT_FROM_PODS) {
                LocalTrafficMatch.addIfNotLocal(natRules, plan.localTraffic());
            }
            natRules.add("-j", ChainNames.MARK_MASQ).end();
        }

        if (usesExtChain) {
            declare(natChains, chains, ext);
            if (plan.masqueradesExternal()) {
                // Endpoints may be on other nodes: masquerade so replies come back through us.
                natRules.start("-A").add(ext).add("-m", "comment")
                        .add("--comment", RuleText.comment("masquerade traffic for " + name + " external destinations"))
                        .add("-j", ChainNames.MARK_MASQ).end();
            } else {
                if (plan.podShortCircuit()) {
                    // Pods reaching an external address of the service behave as if they went
                    // out to the load balancer and back: no traffic policy applies.
                    natRules.start("-A").add(ext).add("-m", "comment")
                            .add("--comment", RuleText.comment("pod traffic for " + name + " external destinations"));
                    LocalTrafficMatch.addIfLocal(natRules, plan.localTraffic()).add("-j", svc).end();
                }
                // From the node itself the source would be a local address (possibly the LB
                // IP itself): masquerade and use every endpoint.
                natRules.start("-A").add(ext).add("-m", "comment")
                        .add("--comment", RuleText.comment("masquerade LOCAL traffic for " + name + " external destinations"))
                        .add("-m", "addrtype").add("--src-type", "LOCAL").add("-j", ChainNames.MARK_MASQ).end();
                if (plan.nodeTrafficToCluster()) {
                    natRules.start("-A").add(ext).add("-m", "comment")
                            .add("--comment", RuleText.comment("route LOCAL traffic for " + name + " external destinations"))
                            .add("-m", "addrtype").add("--src-type", "LOCAL").add("-j", svc).end();
                }
            }
            if (hasExternalEndpoints) {
                natRules.start("-A").add(ext).add("-j", externalPolicyChain).end();
            }
        }

        if (usesFwChain) {
            declare(natChains, chains, fw);
            String lbComment = RuleText.comment(name + " loadbalancer IP");
            for (Cidr range : sourceRanges) {
                natRules.start("-A").add(fw).add("-m", "comment").add("--comment", lbComment)
                        .add("-s", range.toString()).add("-j", ext).end();
            }
            if (plan.firewallAdmitsNode()) {
                // A VIP-like LB IP is often a local address: a request from this node to it
                // loops back with the LB IP as source, and must be let through too.
                for (InetAddress a : lbIPs) {
                    natRules.start("-A").add(fw).add("-m", "comment").add("--comment", lbComment)
                            .add("-s", IpAddresses.format(a)).add("-j", ext).end();
                }
            }
            // What reaches the end was not DNATed; KUBE-PROXY-FIREWALL drops it.
            natRules.start("-A").add(fw).add("-m", "comment")
                    .add("--comment", RuleText.comment("other traffic to " + name + " will be dropped by KUBE-PROXY-FIREWALL"))
                    .end();
        }

        Map<String, String> endpointChains = new HashMap<>(Math.max(4, reachable.size() * 2));
        Map<String, String> oldNames = previous != null ? previous.endpointChains : Map.of();
        hostPorts.clear();
        for (Endpoint ep : reachable) {
            String hostPort = ep.hostPort(); // formatted once per endpoint and write
            hostPorts.put(ep, hostPort);
            String sep = oldNames.get(hostPort);
            if (sep == null) {
                sep = ChainNames.endpoint(hashKey, hostPort);
            }
            endpointChains.put(hostPort, sep);
        }
        if (usesClusterChain) {
            declare(natChains, chains, svc);
            writeEndpointChoice(natRules, name, plan.affinitySeconds(), svc, clusterEndpoints, endpointChains, hostPorts, largeCluster);
        }
        if (usesLocalChain) {
            declare(natChains, chains, svl);
            writeEndpointChoice(natRules, name, plan.affinitySeconds(), svl, localEndpoints, endpointChains, hostPorts, largeCluster);
        }
        String sepComment = largeCluster ? null : RuleText.comment(name);
        // An endpoint chain's rules depend only on the port's name, its endpoint's address and
        // port, session affinity and the comment mode: when those match the previous write, the
        // chain on the node is already right (the port's name, protocol included, is the key).
        boolean keepSameEndpointChains = previousOnNode && previous != null && previous.largeCluster == largeCluster
                && previous.state.port().sessionAffinity() == (plan.affinitySeconds() > 0);
        int keptRules = 0;
        for (Endpoint ep : reachable) {
            String hostPort = hostPorts.get(ep);
            String sep = endpointChains.get(hostPort);
            if (keepSameEndpointChains && oldNames.containsKey(hostPort)) {
                chains.add(sep); // still ours and in use, so not deleted
                keptRules += ENDPOINT_CHAIN_RULES;
                continue;
            }
            declare(natChains, chains, sep);
            // Hairpin: an endpoint reaching itself through the service must be masqueraded,
            // or it would answer itself directly and drop the reply.
            natRules.start("-A").add(sep);
            if (sepComment != null) {
                natRules.add("-m", "comment").add("--comment", sepComment);
            }
            natRules.add("-s").addHostOf(hostPort).add("-j", ChainNames.MARK_MASQ).end();
            natRules.start("-A").add(sep);
            if (sepComment != null) {
                natRules.add("-m", "comment").add("--comment", sepComment);
            }
            if (plan.affinitySeconds() > 0) {
                natRules.add("-m", "recent").add("--name", sep).add("--set");
            }
            natRules.add("-m", protocol).add("-p", protocol).add("-j", "DNAT").add("--to-destination", hostPort).end();
        }

        return new Fragment(state, largeCluster, services.text().toString(), services.lines(),
                nodePorts.text().isEmpty() ? "" : nodePorts.text().toString(), nodePorts.lines(), filter.text().toString(),
                filter.lines(), List.copyOf(chains), natRules.lines() - ownStart, svc, svl, ext, fw, endpointChains,
                natRules.lines() - ownStart + keptRules);
    }

    /** What a rule does with traffic its route has no endpoints for; null when the route is served. */
    private static String target(Route route) {
        return switch (route) {
            case REJECT -> "REJECT";
            case DROP -> "DROP";
            case CLUSTER, LOCAL -> null;
        };
    }

    /** The comment of a rule that rejects or drops, as upstream words it; null when the route is served. */
    private static String comment(String name, Route route) {
        return switch (route) {
            case REJECT -> RuleText.comment(name + " has no endpoints");
            case DROP -> RuleText.comment(name + " has no local endpoints");
            case CLUSTER, LOCAL -> null;
        };
    }

    private static void destinationRule(LineBuffer out, String chain, String comment, String protocol, String ip,
                                        String dport, String target) {
        out.start("-A").add(chain).add("-m", "comment").add("--comment", comment)
                .add("-m", protocol).add("-p", protocol).add("-d", ip).add("--dport", dport).add("-j", target).end();
    }

    private static void declare(LineBuffer natChains, List<String> chains, String chain) {
        chains.add(chain);
        natChains.chainLine(chain);
    }

    /** Session-affinity rules, then the random choice among the endpoints. */
    private static void writeEndpointChoice(LineBuffer rules, String name, int affinitySeconds, String chain,
                                            List<Endpoint> endpoints, Map<String, String> endpointChains,
                                            Map<Endpoint, String> hostPorts, boolean largeCluster) {
        if (affinitySeconds > 0) {
            String seconds = Integer.toString(affinitySeconds);
            for (Endpoint ep : endpoints) {
                String sep = endpointChains.get(hostPortOf(hostPorts, ep));
                rules.start("-A").add(chain);
                if (!largeCluster) {
                    rules.add("-m", "comment").add("--comment", RuleText.comment(name + " -> " + hostPortOf(hostPorts, ep)));
                }
                rules.add("-m", "recent").add("--name", sep).add("--rcheck").add("--seconds", seconds).add("--reap")
                        .add("-j", sep).end();
            }
        }
        int n = endpoints.size();
        for (int i = 0; i < n; i++) {
            Endpoint ep = endpoints.get(i);
            rules.start("-A").add(chain);
            if (!largeCluster) {
                rules.add("-m", "comment").add("--comment", RuleText.comment(name + " -> " + hostPortOf(hostPorts, ep)));
            }
            if (i < n - 1) {
                rules.add("-m", "statistic").add("--mode", "random").add("--probability", Probability.of(n - i));
            }
            rules.add("-j", endpointChains.get(hostPortOf(hostPorts, ep))).end();
        }
    }

    private static String hostPortOf(Map<Endpoint, String> hostPorts, Endpoint ep) {
        String hostPort = hostPorts.get(ep);
        return hostPort != null ? hostPort : ep.hostPort();
    }
}
