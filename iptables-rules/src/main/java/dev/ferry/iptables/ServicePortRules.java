package dev.ferry.iptables;

import dev.ferry.core.Cidr;
import dev.ferry.core.Endpoint;
import dev.ferry.core.EndpointSelection;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortState;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Writes the rules of one service port: its KUBE-SERVICES entries (nat, or filter REJECT/DROP
 * when it has no usable endpoint) and its own chains (KUBE-SVC/SVL and one KUBE-SEP per
 * endpoint). Kept apart from the table-wide rules so a partial sync can write only the chains
 * of changed services. External traffic (NodePort, external and load-balancer IPs through
 * KUBE-EXT/KUBE-FW) slots in at {@link #writeExternal}.
 */
final class ServicePortRules {

    /** Where one service port's lines go; natChains/natRules may be discarding buffers later. */
    record Buffers(LineBuffer filterRules, LineBuffer natChains, LineBuffer natRules, Set<String> activeNatChains) {
    }

    private final IpFamily family;
    private final boolean masqueradeAll;
    private final Optional<Cidr> localCidr;

    ServicePortRules(IpFamily family, boolean masqueradeAll, Optional<Cidr> localCidr) {
        this.family = family;
        this.masqueradeAll = masqueradeAll;
        this.localCidr = localCidr;
    }

    void write(ServicePortState state, boolean largeCluster, Buffers out) {
        ServicePort port = state.port();
        Optional<InetAddress> clusterIP = port.clusterIP(family);
        if (clusterIP.isEmpty()) {
            return; // this family's backend does not serve the port
        }
        EndpointSelection selection = state.selection(family);
        String name = port.name().toString();
        String protocol = port.protocol().lower();
        String ip = IpAddresses.format(clusterIP.get());
        String dport = Integer.toString(port.port());

        List<Endpoint> clusterEndpoints = selection.clusterEndpoints();
        List<Endpoint> localEndpoints = selection.localEndpoints();
        String clusterChain = ChainNames.service(port.name());
        String localChain = ChainNames.serviceLocal(port.name());
        boolean usesClusterChain = !clusterEndpoints.isEmpty() && port.usesClusterEndpoints();
        boolean usesLocalChain = !localEndpoints.isEmpty() && port.usesLocalEndpoints();

        boolean hasEndpoints = selection.hasAnyEndpoints();
        String internalChain = port.internalPolicyLocal() ? localChain : clusterChain;
        boolean hasInternalEndpoints = hasEndpoints
                && (port.internalPolicyLocal() ? usesLocalChain : usesClusterChain);
        if (hasEndpoints && !hasInternalEndpoints && !port.internalPolicyLocal()) {
            // Cannot happen with core's selection; if it did, jumping to an undeclared chain
            // would fail the whole restore, so treat the port as having no endpoints.
            hasEndpoints = false;
        }

        String clusterComment = RuleText.comment(name + " cluster IP");
        if (hasInternalEndpoints) {
            out.natRules().start("-A").add(ChainNames.SERVICES).add("-m", "comment").add("--comment", clusterComment)
                    .add("-m", protocol).add("-p", protocol).add("-d", ip).add("--dport", dport)
                    .add("-j", internalChain).end();
        } else {
            String comment = hasEndpoints ? name + " has no local endpoints" : name + " has no endpoints";
            out.filterRules().start("-A").add(ChainNames.SERVICES).add("-m", "comment")
                    .add("--comment", RuleText.comment(comment))
                    .add("-m", protocol).add("-p", protocol).add("-d", ip).add("--dport", dport)
                    .add("-j", hasEndpoints ? "DROP" : "REJECT").end();
        }

        writeExternal(state, out);

        if (hasInternalEndpoints && (masqueradeAll || localCidr.isPresent())) {
            // Masquerade what does not come from a pod: the reply must come back through this
            // node (e.g. a client that routes the service range to any node).
            LineBuffer rules = out.natRules();
            rules.start("-A").add(internalChain).add("-m", "comment").add("--comment", clusterComment)
                    .add("-m", protocol).add("-p", protocol).add("-d", ip).add("--dport", dport);
            if (!masqueradeAll) {
                rules.add("!").add("-s", localCidr.get().toString());
            }
            rules.add("-j", ChainNames.MARK_MASQ).end();
        }

        if (usesClusterChain) {
            declare(out, clusterChain);
            writeEndpointChoice(out.natRules(), name, port, clusterChain, clusterEndpoints, largeCluster);
        }
        if (usesLocalChain) {
            declare(out, localChain);
            writeEndpointChoice(out.natRules(), name, port, localChain, localEndpoints, largeCluster);
        }
        for (Endpoint ep : selection.allReachable()) {
            String sep = ChainNames.endpoint(port.name(), ep);
            declare(out, sep);
            LineBuffer rules = out.natRules();
            String comment = largeCluster ? null : RuleText.comment(name);
            // Hairpin: an endpoint reaching itself through the service must be masqueraded,
            // or it would answer itself directly and drop the reply.
            rules.start("-A").add(sep);
            if (comment != null) {
                rules.add("-m", "comment").add("--comment", comment);
            }
            rules.add("-s", IpAddresses.format(ep.ip())).add("-j", ChainNames.MARK_MASQ).end();
            rules.start("-A").add(sep);
            if (comment != null) {
                rules.add("-m", "comment").add("--comment", comment);
            }
            if (port.sessionAffinity()) {
                rules.add("-m", "recent").add("--name", sep).add("--set");
            }
            rules.add("-m", protocol).add("-p", protocol).add("-j", "DNAT").add("--to-destination", ep.hostPort()).end();
        }
    }

    /** NodePort, external IPs and load-balancer IPs: issue 3. */
    private void writeExternal(ServicePortState state, Buffers out) {
    }

    private static void declare(Buffers out, String chain) {
        if (out.activeNatChains().add(chain)) {
            out.natChains().chainLine(chain);
        }
    }

    /** Session-affinity rules, then the random choice among the endpoints. */
    private static void writeEndpointChoice(LineBuffer rules, String name, ServicePort port, String chain,
                                            List<Endpoint> endpoints, boolean largeCluster) {
        if (port.sessionAffinity()) {
            String seconds = Integer.toString(port.stickyMaxAgeSeconds());
            for (Endpoint ep : endpoints) {
                String sep = ChainNames.endpoint(port.name(), ep);
                rules.start("-A").add(chain);
                if (!largeCluster) {
                    rules.add("-m", "comment").add("--comment", RuleText.comment(name + " -> " + ep.hostPort()));
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
                rules.add("-m", "comment").add("--comment", RuleText.comment(name + " -> " + ep.hostPort()));
            }
            if (i < n - 1) {
                rules.add("-m", "statistic").add("--mode", "random").add("--probability", RuleText.probability(n - i));
            }
            rules.add("-j", ChainNames.endpoint(port.name(), ep)).end();
        }
    }
}
