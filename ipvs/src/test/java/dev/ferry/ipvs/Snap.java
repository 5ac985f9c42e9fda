package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.Endpoint;
import dev.ferry.core.EndpointSelection;
import dev.ferry.core.IpAddresses;
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

/** Small builder of snapshots for the rules tests (the writers read ports and endpoints only). */
final class Snap {

    static final String NODE = "test-node";

    private final TreeMap<ServicePortName, ServicePortState> ports = new TreeMap<>(ProxySnapshot.ORDER);
    private final List<InetAddress> nodeAddresses = new ArrayList<>();

    static InetAddress ip(String text) {
        return IpAddresses.parse(text);
    }

    Snap nodeAddress(String ip) {
        nodeAddresses.add(ip(ip));
        return this;
    }

    /** A service port; fill in with the returned builder. */
    Port port(String ns, String name, String portName, Protocol protocol, String clusterIP, int port) {
        return new Port(this, new ServicePortName(ns, name, portName, protocol), clusterIP, port);
    }

    ProxySnapshot build() {
        return new ProxySnapshot(1, new NodeInfo(NODE, Map.of(), nodeAddresses), ports, Set.of(), false);
    }

    static final class Port {
        private final Snap snap;
        private final ServicePortName name;
        private final List<InetAddress> clusterIPs = new ArrayList<>();
        private final int port;
        private int nodePort;
        private final List<InetAddress> externalIPs = new ArrayList<>();
        private final List<InetAddress> lbIPs = new ArrayList<>();
        private final List<Cidr> sourceRanges = new ArrayList<>();
        private boolean externalLocal;
        private boolean internalLocal;
        private int healthCheckNodePort;
        private final List<Endpoint> endpoints = new ArrayList<>();

        Port(Snap snap, ServicePortName name, String clusterIP, int port) {
            this.snap = snap;
            this.name = name;
            this.clusterIPs.add(ip(clusterIP));
            this.port = port;
        }

        Port nodePort(int p) {
            nodePort = p;
            return this;
        }

        Port externalIP(String ip) {
            externalIPs.add(ip(ip));
            return this;
        }

        Port lbIP(String ip) {
            lbIPs.add(ip(ip));
            return this;
        }

        Port sourceRange(String cidr) {
            sourceRanges.add(Cidr.parse(cidr));
            return this;
        }

        Port externalLocal(int healthCheck) {
            externalLocal = true;
            healthCheckNodePort = healthCheck;
            return this;
        }

        Port internalLocal() {
            internalLocal = true;
            return this;
        }

        Port endpoint(String ip, int port, boolean local) {
            endpoints.add(new Endpoint(ip(ip), port, true, true, false, local ? NODE : "other-node", local,
                    Set.of(), Set.of()));
            return this;
        }

        Snap done() {
            ServicePort sp = new ServicePort(name, clusterIPs, port, nodePort, externalIPs, lbIPs, sourceRanges,
                    0, externalLocal, internalLocal, healthCheckNodePort, "");
            List<Endpoint> v4 = endpoints.stream().filter(e -> e.ip() instanceof java.net.Inet4Address).toList();
            List<Endpoint> v6 = endpoints.stream().filter(e -> !(e.ip() instanceof java.net.Inet4Address)).toList();
            EndpointSelection s4 = new EndpointSelection(v4, v4.stream().filter(Endpoint::local).toList(), v4, !v4.isEmpty());
            EndpointSelection s6 = new EndpointSelection(v6, v6.stream().filter(Endpoint::local).toList(), v6, !v6.isEmpty());
            snap.ports.put(name, new ServicePortState(sp, endpoints, s4, s6));
            return snap;
        }
    }
}
