package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.Endpoint;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortPlan;
import dev.ferry.core.ServicePortState;
import dev.ferry.netfilter.NetworkSettings;
import dev.ferry.netfilter.NodePortAddresses;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Pure: snapshot + node facts → the entries of upstream's IPVS-mode ipsets for one family, as
 * upstream's syncProxyRules fills them (pkg/proxy/ipvs/proxier.go). No I/O.
 */
final class IpsetWriter {

    private final IpFamily family;
    private final NetworkSettings config;

    IpsetWriter(IpFamily family, NetworkSettings config) {
        this.family = Objects.requireNonNull(family, "family");
        this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * @param nodeAddresses every address of the node except those on kube-ipvs0 (upstream's
     *                      GetAllLocalAddressesExcept): decides which external and LoadBalancer IPs
     *                      go on kube-ipvs0 (KUBE-IPVS-IPS) and the SCTP NodePort entries
     */
    IpvsSets write(ProxySnapshot snapshot, List<InetAddress> nodeAddresses) {
        return write(snapshot, config.planner(family, snapshot.node()), nodeAddresses);
    }

    /** The same, with the family's service-port planner (external and LB IPs, source ranges, the node's admission). */
    IpvsSets write(ProxySnapshot snapshot, ServicePortPlan.Planner planner, List<InetAddress> nodeAddresses) {
        Objects.requireNonNull(snapshot, "snapshot");
        Map<KubeIpSet, SortedSet<String>> sets = new EnumMap<>(KubeIpSet.class);
        for (KubeIpSet s : KubeIpSet.values()) {
            sets.put(s, new TreeSet<>());
        }
        List<IpvsSets.NoNodeAccess> noNodeAccess = new ArrayList<>();
        TreeSet<String> localSet = new TreeSet<>();
        for (InetAddress a : nodeAddresses) {
            if (usableNodeAddress(a)) {
                localSet.add(IpAddresses.format(a));
            }
        }
        List<String> nodePortIPs = nodePortIPs(snapshot, nodeAddresses, localSet);
        for (ServicePortState state : snapshot.servicePorts()) {
            Optional<ServicePortPlan> planned = planner.plan(state);
            if (planned.isEmpty()) {
                continue; // not a Service of this family
            }
            ServicePortPlan plan = planned.get();
            ServicePort port = state.port();
            String proto = port.protocol().lower();
            // Hairpin: every endpoint on this node, whatever the selection (upstream walks endpointsMap).
            for (Endpoint ep : state.endpoints()) {
                if (ep.local() && family.contains(ep.ip())) {
                    String ip = IpAddresses.format(ep.ip());
                    sets.get(KubeIpSet.LOOP_BACK).add(ip + "," + proto + ":" + ep.port() + "," + ip);
                }
            }
            String cip = IpAddresses.format(plan.clusterIP());
            sets.get(KubeIpSet.CLUSTER_IP).add(ipPort(cip, proto, port.port()));
            sets.get(KubeIpSet.IPVS_IPS).add(cip);

            for (InetAddress ext : plan.externalIPs()) {
                String ip = IpAddresses.format(ext);
                sets.get(port.externalPolicyLocal() ? KubeIpSet.EXTERNAL_IP_LOCAL : KubeIpSet.EXTERNAL_IP)
                        .add(ipPort(ip, proto, port.port()));
                bindUnlessLocal(sets, localSet, ip);
            }

            List<Cidr> ranges = plan.sourceRanges();
            for (InetAddress lb : plan.loadBalancerIPs()) {
                String ip = IpAddresses.format(lb);
                String entry = ipPort(ip, proto, port.port());
                sets.get(KubeIpSet.LOAD_BALANCER).add(entry);
                if (port.externalPolicyLocal()) {
                    sets.get(KubeIpSet.LOAD_BALANCER_LOCAL).add(entry);
                }
                if (!ranges.isEmpty()) {
                    sets.get(KubeIpSet.LOAD_BALANCER_FW).add(entry);
                    for (Cidr cidr : ranges) {
                        sets.get(KubeIpSet.LOAD_BALANCER_SOURCE_CIDR).add(entry + "," + cidr);
                    }
                    if (plan.firewallAdmitsNode()) {
                        sets.get(KubeIpSet.LOAD_BALANCER_SOURCE_IP).add(entry + "," + ip);
                    } else {
                        noNodeAccess.add(new IpvsSets.NoNodeAccess(ip, port.protocol(), port.port()));
                    }
                }
                bindUnlessLocal(sets, localSet, ip);
            }

            if (port.nodePort() != 0) {
                if (nodePortIPs.isEmpty()) {
                    // Upstream skips the rest of this port (its health check port too) when no
                    // node address serves NodePorts.
                    continue;
                }
                addNodePort(sets, port, nodePortIPs);
            }
            if (port.healthCheckNodePort() != 0) {
                sets.get(KubeIpSet.HEALTH_CHECK_NODE_PORT).add(Integer.toString(port.healthCheckNodePort()));
            }
        }
        return new IpvsSets(family, sets, noNodeAccess);
    }

    private static void addNodePort(Map<KubeIpSet, SortedSet<String>> sets, ServicePort port, List<String> nodePortIPs) {
        boolean local = port.externalPolicyLocal();
        String np = Integer.toString(port.nodePort());
        switch (port.protocol()) {
            case TCP -> {
                sets.get(KubeIpSet.NODE_PORT_TCP).add(np);
                if (local) {
                    sets.get(KubeIpSet.NODE_PORT_LOCAL_TCP).add(np);
                }
            }
            case UDP -> {
                sets.get(KubeIpSet.NODE_PORT_UDP).add(np);
                if (local) {
                    sets.get(KubeIpSet.NODE_PORT_LOCAL_UDP).add(np);
                }
            }
            case SCTP -> {
                // bitmap:port has no protocol, so SCTP NodePorts are node IP + port hash entries.
                for (String ip : nodePortIPs) {
                    String entry = ipPort(ip, "sctp", port.nodePort());
                    sets.get(KubeIpSet.NODE_PORT_SCTP).add(entry);
                    if (local) {
                        sets.get(KubeIpSet.NODE_PORT_LOCAL_SCTP).add(entry);
                    }
                }
            }
        }
    }

    /** An external or LoadBalancer IP goes on kube-ipvs0 unless another interface already has it. */
    private static void bindUnlessLocal(Map<KubeIpSet, SortedSet<String>> sets, TreeSet<String> localSet, String ip) {
        if (!localSet.contains(ip)) {
            sets.get(KubeIpSet.IPVS_IPS).add(ip);
        }
    }

    private static String ipPort(String ip, String proto, int port) {
        return ip + "," + proto + ":" + port;
    }

    /** Upstream's node address set leaves out loopback and IPv6 link-local addresses. */
    private boolean usableNodeAddress(InetAddress a) {
        return family.contains(a) && !a.isLoopbackAddress() && !(a instanceof Inet6Address && a.isLinkLocalAddress());
    }

    /**
     * The node IPs that serve NodePorts: every node address of the family when
     * --nodeport-addresses has no CIDR of the family (or a /0), else those inside its CIDRs
     * ("primary" = the node's primary address), loopback excluded.
     */
    private List<String> nodePortIPs(ProxySnapshot snapshot, List<InetAddress> nodeAddresses, TreeSet<String> localSet) {
        NodePortAddresses serving = NodePortAddresses.of(family, config.nodePortAddresses(), snapshot.node());
        if (serving.matchAll()) {
            return List.copyOf(localSet);
        }
        TreeSet<String> out = new TreeSet<>();
        for (InetAddress a : nodeAddresses) {
            if (family.contains(a) && !a.isLoopbackAddress() && serving.serves(a)) {
                out.add(IpAddresses.format(a));
            }
        }
        return List.copyOf(out);
    }
}
