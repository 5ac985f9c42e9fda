package dev.ferry.ipvs;

import dev.ferry.core.ServicePortName;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.util.List;
import java.util.Objects;

/**
 * One virtual server the node must have, the service port it serves (to name it in errors) and its real servers
 * (masquerading, weight 1, in endpoint order, no duplicates).
 */
record PlannedService(ServicePortName servicePort, VirtualServer virtualServer, List<RealServer> realServers) {

    PlannedService {
        Objects.requireNonNull(servicePort, "servicePort");
        Objects.requireNonNull(virtualServer, "virtualServer");
        realServers = List.copyOf(realServers);
    }

    /** "ns/name:port TCP 10.96.0.10:80": how reports name this virtual server. */
    String label() {
        return servicePort + " " + ServiceKey.of(virtualServer);
    }
}
