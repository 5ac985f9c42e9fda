package dev.ferry.ipvs;

import dev.ferry.core.Endpoint;
import dev.ferry.core.EndpointSelector;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortName;
import dev.ferry.core.ServicePortState;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Builds snapshots for the IPVS sync tests (and the guest checks): services, endpoints, node "node-a". */
public final class Snapshots {

    static final NodeInfo NODE = new NodeInfo("node-a", Map.of(), List.of(ip("192.168.50.1")));

    private Snapshots() {
    }

    /** A service port builder with upstream's defaults: cluster policies, no affinity. */
    public static final class Svc {
        private final ServicePortName name;
        private final List<InetAddress> clusterIPs = new ArrayList<>();
        private final int port;
        private int nodePort;
        private final List<InetAddress> externalIPs = new ArrayList<>();
        private final List<InetAddress> lbIPs = new ArrayList<>();
        private int sticky;
        private boolean externalLocal;
        private boolean internalLocal;
        private final List<Endpoint> endpoints = new ArrayList<>();

        Svc(String nsName, Protocol protocol, String clusterIP, int port) {
            String[] parts = nsName.split("/");
            this.name = new ServicePortName(parts[0], parts[1], "p", protocol);
            for (String ip : clusterIP.split(",")) {
                if (!ip.isEmpty()) {
                    clusterIPs.add(ip(ip));
                }
            }
            this.port = port;
        }

        public Svc nodePort(int value) {
            nodePort = value;
            return this;
        }

        public Svc externalIP(String ip) {
            externalIPs.add(ip(ip));
            return this;
        }

        public Svc loadBalancerIP(String ip) {
            lbIPs.add(ip(ip));
            return this;
        }

        public Svc affinity(int seconds) {
            sticky = seconds;
            return this;
        }

        public Svc externalLocal() {
            externalLocal = true;
            return this;
        }

        public Svc internalLocal() {
            internalLocal = true;
            return this;
        }

        /** A ready endpoint on another node. */
        public Svc endpoint(String ip, int port) {
            endpoints.add(new Endpoint(ip(ip), port, true, true, false, "node-b", false, Set.of(), Set.of()));
            return this;
        }

        /** A ready endpoint on this node. */
        public Svc localEndpoint(String ip, int port) {
            endpoints.add(new Endpoint(ip(ip), port, true, true, false, NODE.name(), true, Set.of(), Set.of()));
            return this;
        }

        ServicePortState state() {
            ServicePort sp = new ServicePort(name, clusterIPs, port, nodePort, externalIPs, lbIPs, List.of(), sticky,
                    externalLocal, internalLocal, 0, "");
            return new ServicePortState(sp, endpoints, EndpointSelector.select(sp, only(IpFamily.IPV4), NODE),
                    EndpointSelector.select(sp, only(IpFamily.IPV6), NODE));
        }

        private List<Endpoint> only(IpFamily family) {
            return endpoints.stream().filter(ep -> ep.family() == family).toList();
        }
    }

    public static Svc tcp(String nsName, String clusterIP, int port) {
        return new Svc(nsName, Protocol.TCP, clusterIP, port);
    }

    public static Svc udp(String nsName, String clusterIP, int port) {
        return new Svc(nsName, Protocol.UDP, clusterIP, port);
    }

    public static ProxySnapshot snapshot(Svc... services) {
        TreeMap<ServicePortName, ServicePortState> map = new TreeMap<>(ProxySnapshot.ORDER);
        for (Svc s : services) {
            ServicePortState state = s.state();
            map.put(state.name(), state);
        }
        return new ProxySnapshot(1, NODE, map, Set.of(), false);
    }

    static InetAddress ip(String text) {
        return IpAddresses.parse(text);
    }
}
