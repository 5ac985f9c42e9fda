package dev.ferry.ipvs;

import dev.ferry.core.Endpoint;
import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTraffic;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortPlan;
import dev.ferry.core.ServicePortState;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The IPVS table one family of this node must have for a snapshot, as upstream's IPVS proxier lays it out
 * (pkg/proxy/ipvs/proxier.go, syncProxyRules): per service port a virtual server on the ClusterIP, one per external
 * IP, one per LoadBalancer ingress IP and, for a NodePort, one per node address on the node port. All use the
 * configured scheduler ("mh" also sets the source-hash flag 0x10, as upstream does), ClientIP affinity makes them
 * persistent for the affinity timeout, and their real servers are the selected endpoints, masquerading, weight 1.
 * The ClusterIP server follows the internal traffic policy, the others the external one; a Local policy uses this
 * node's endpoints and, when there are none, the cluster's (upstream, kubernetes#97081: pods on this node can still
 * reach the service) as the endpoint selection gives them, which is none when no policy of the service is Cluster.
 * A virtual server with no endpoints is still planned, as upstream does.
 *
 * <p>Also the addresses to bind on kube-ipvs0: every ClusterIP, and every external and LoadBalancer IP that is not
 * already on another interface of the node; node addresses are never bound.
 *
 * <p>Pure and immutable. Two service ports claiming one virtual server (e.g. the same external IP and port): the
 * first in snapshot order keeps it and the clash is listed in {@link #problems()}.
 */
final class IpvsPlan {

    private final IpFamily family;
    private final Map<ServiceKey, PlannedService> services;
    private final Set<InetAddress> bindAddresses;
    private final List<String> problems;

    private IpvsPlan(IpFamily family, Map<ServiceKey, PlannedService> services, Set<InetAddress> bindAddresses,
                     List<String> problems) {
        this.family = family;
        this.services = Collections.unmodifiableMap(services);
        this.bindAddresses = Collections.unmodifiableSet(bindAddresses);
        this.problems = List.copyOf(problems);
    }

    /** With a planner of the family that knows no pod network (the table does not depend on it). */
    static IpvsPlan build(ProxySnapshot snapshot, IpFamily family, IpvsSettings settings) {
        return build(snapshot, new ServicePortPlan.Planner(family, false, LocalTraffic.NONE, null), settings);
    }

    /**
     * @param planner the family's service-port planner (which endpoints serve which traffic)
     */
    static IpvsPlan build(ProxySnapshot snapshot, ServicePortPlan.Planner planner, IpvsSettings settings) {
        Objects.requireNonNull(snapshot, "snapshot");
        Objects.requireNonNull(planner, "planner");
        Objects.requireNonNull(settings, "settings");
        IpFamily family = planner.family();
        Builder b = new Builder(family, settings);
        for (ServicePortState state : snapshot.servicePorts()) {
            planner.plan(state).ifPresent(b::add); // a port without a ClusterIP of the family is not this family's
        }
        return new IpvsPlan(family, b.services, b.bind, b.problems);
    }

    IpFamily family() {
        return family;
    }

    /** The planned virtual servers, in snapshot order. */
    List<PlannedService> services() {
        return List.copyOf(services.values());
    }

    /** Addresses kube-ipvs0 must carry for this family (as /32 or /128), in snapshot order. */
    Set<InetAddress> bindAddresses() {
        return bindAddresses;
    }

    /** Clashes found while planning, one readable line each. */
    List<String> problems() {
        return problems;
    }

    PlannedService service(ServiceKey key) {
        return services.get(key);
    }

    Set<InetAddress> serviceAddresses() {
        Set<InetAddress> out = new LinkedHashSet<>();
        for (ServiceKey key : services.keySet()) {
            out.add(key.address());
        }
        return out;
    }

    private static final class Builder {
        private final IpFamily family;
        private final IpvsSettings settings;
        private final Map<ServiceKey, PlannedService> services = new LinkedHashMap<>();
        private final Set<InetAddress> bind = new LinkedHashSet<>();
        private final List<String> problems = new ArrayList<>();

        Builder(IpFamily family, IpvsSettings settings) {
            this.family = family;
            this.settings = settings;
        }

        void add(ServicePortPlan plan) {
            ServicePort port = plan.port();
            List<RealServer> internal = realServers(plan, plan.internal());
            List<RealServer> external = realServers(plan, plan.external());
            if (put(plan, plan.clusterIP(), port.port(), internal)) {
                bind.add(plan.clusterIP());
            }
            for (InetAddress ip : plan.externalIPs()) {
                addExternal(plan, ip, external);
            }
            for (InetAddress ip : plan.loadBalancerIPs()) {
                addExternal(plan, ip, external);
            }
            if (port.nodePort() != 0) {
                for (InetAddress ip : settings.nodePortAddresses()) {
                    if (family.contains(ip)) {
                        put(plan, ip, port.nodePort(), external);
                    }
                }
            }
        }

        private void addExternal(ServicePortPlan plan, InetAddress ip, List<RealServer> realServers) {
            if (put(plan, ip, plan.port().port(), realServers)
                    && !settings.hostAddresses().contains(ip)) {
                bind.add(ip);
            }
        }

        /** Plans one virtual server; false when another service port already has it. */
        private boolean put(ServicePortPlan plan, InetAddress ip, int portNumber, List<RealServer> realServers) {
            ServicePort port = plan.port();
            int flags = "mh".equals(settings.scheduler()) ? VirtualServer.FLAG_SH_PORT : 0;
            VirtualServer vs = new VirtualServer(family, port.protocol(), ip, portNumber, settings.scheduler(), flags,
                    plan.affinitySeconds(), family.bits());
            ServiceKey key = ServiceKey.of(vs);
            PlannedService existing = services.get(key);
            if (existing != null) {
                if (!existing.servicePort().equals(port.name())) {
                    problems.add("virtual server " + key + " of " + port.name() + " is already served for "
                            + existing.servicePort() + "; skipped");
                }
                return existing.servicePort().equals(port.name());
            }
            services.put(key, new PlannedService(port.name(), vs, realServers));
            return true;
        }

        /**
         * Upstream's syncEndpoint: a Local route takes this node's endpoints; a Local policy with none
         * here (the plan's DROP) falls back to the cluster's (kubernetes#97081: pods on this node can
         * still reach the service), which the selection leaves empty when no policy of the port is Cluster.
         */
        private List<RealServer> realServers(ServicePortPlan plan, ServicePortPlan.Route route) {
            List<Endpoint> endpoints = plan.endpoints(route == ServicePortPlan.Route.DROP ? ServicePortPlan.Route.CLUSTER : route);
            Map<DestKey, RealServer> out = new LinkedHashMap<>();
            for (Endpoint ep : endpoints) {
                if (!family.contains(ep.ip())) {
                    continue; // the selection is per family already; never hand IPVS a mixed-family server
                }
                out.putIfAbsent(new DestKey(ep.ip(), ep.port()), RealServer.of(ep.ip(), ep.port(), 1));
            }
            return List.copyOf(out.values());
        }
    }
}
