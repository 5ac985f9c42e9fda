package dev.ferry.core;

import java.util.List;

/**
 * A service port with its endpoints (both families, sorted as upstream sorts them, by
 * "ip:port" text) and the selection for each family.
 */
public record ServicePortState(ServicePort port, List<Endpoint> endpoints,
                               EndpointSelection ipv4, EndpointSelection ipv6) {

    public ServicePortState {
        endpoints = List.copyOf(endpoints);
    }

    public EndpointSelection selection(IpFamily family) {
        return family == IpFamily.IPV4 ? ipv4 : ipv6;
    }

    public ServicePortName name() {
        return port.name();
    }
}
