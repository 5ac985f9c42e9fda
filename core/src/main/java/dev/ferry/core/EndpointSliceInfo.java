package dev.ferry.core;

import java.util.List;
import java.util.Map;

/**
 * What one EndpointSlice contributes: endpoints per (port name, protocol) of one Service.
 * Equal infos mean an update that changes nothing for the data plane.
 */
record EndpointSliceInfo(NamespacedName service, Map<PortKey, List<Endpoint>> endpointsByPort) {

    /** A slice port's identity, matched against the Service port's name and protocol. */
    record PortKey(String name, Protocol protocol) {
    }

    EndpointSliceInfo {
        endpointsByPort = Map.copyOf(endpointsByPort);
    }
}
