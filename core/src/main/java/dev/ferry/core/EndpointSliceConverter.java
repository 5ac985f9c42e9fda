package dev.ferry.core;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointHints;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.ForNode;
import io.fabric8.kubernetes.api.model.discovery.v1.ForZone;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a discovery.k8s.io/v1 EndpointSlice into endpoints per service port. FQDN slices and
 * ports without a number are ignored, as upstream does; an invalid field is reported and the
 * whole slice is skipped (null).
 */
final class EndpointSliceConverter {

    static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private EndpointSliceConverter() {
    }

    /** The slice's key, or null when it has no usable name. */
    static NamespacedName key(EndpointSlice slice) {
        ObjectMeta m = slice == null ? null : slice.getMetadata();
        if (m == null || m.getName() == null || m.getName().isEmpty()) {
            return null;
        }
        return new NamespacedName(m.getNamespace() == null || m.getNamespace().isEmpty() ? "default" : m.getNamespace(), m.getName());
    }

    static EndpointSliceInfo convert(EndpointSlice slice, String hostname, Problems problems) {
        if (slice == null) {
            return null;
        }
        NamespacedName key = key(slice);
        String object = "EndpointSlice " + (key == null ? "?" : Names.printable(key.toString()));
        try {
            return doConvert(slice, key, hostname);
        } catch (ServiceConverter.InvalidField e) {
            problems.report(object, e.field, e.getMessage());
            return null;
        }
    }

    private static EndpointSliceInfo doConvert(EndpointSlice slice, NamespacedName key, String hostname) {
        if (key == null) {
            throw new ServiceConverter.InvalidField("metadata.name", "missing");
        }
        Names.checkSubdomain(key.name(), "metadata.name");
        Names.checkLabel(key.namespace(), "metadata.namespace");
        Map<String, String> labels = slice.getMetadata().getLabels();
        String serviceName = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
        if (serviceName == null || serviceName.isEmpty()) {
            throw new ServiceConverter.InvalidField("metadata.labels[" + SERVICE_NAME_LABEL + "]", "missing");
        }
        Names.checkLabel(serviceName, "metadata.labels[" + SERVICE_NAME_LABEL + "]");
        NamespacedName service = new NamespacedName(key.namespace(), serviceName);
        String addressType = slice.getAddressType();
        IpFamily family;
        if ("IPv4".equals(addressType)) {
            family = IpFamily.IPV4;
        } else if ("IPv6".equals(addressType)) {
            family = IpFamily.IPV6;
        } else if ("FQDN".equals(addressType)) {
            return new EndpointSliceInfo(service, Map.of());
        } else {
            throw new ServiceConverter.InvalidField("addressType", "\"" + addressType + "\" (want IPv4, IPv6 or FQDN)");
        }

        List<Endpoint> template = endpoints(slice, family, hostname);
        Map<EndpointSliceInfo.PortKey, List<Endpoint>> byPort = new LinkedHashMap<>();
        List<EndpointPort> ports = slice.getPorts() == null ? List.of() : slice.getPorts();
        for (int i = 0; i < ports.size(); i++) {
            EndpointPort p = ports.get(i);
            if (p.getPort() == null) {
                continue; // "all ports": not meaningful to a proxy
            }
            Protocol protocol;
            try {
                protocol = Protocol.parse(p.getProtocol());
            } catch (IllegalArgumentException e) {
                throw new ServiceConverter.InvalidField("ports[" + i + "].protocol", e.getMessage());
            }
            int port = ServiceConverter.port(p.getPort(), "ports[" + i + "].port", 1);
            if (p.getName() != null && !p.getName().isEmpty()) {
                Names.checkLabel(p.getName(), "ports[" + i + "].name");
            }
            List<Endpoint> list = new ArrayList<>(template.size());
            for (Endpoint t : template) {
                list.add(new Endpoint(t.ip(), port, t.ready(), t.serving(), t.terminating(), t.nodeName(),
                        t.local(), t.zoneHints(), t.nodeHints()));
            }
            byPort.put(new EndpointSliceInfo.PortKey(p.getName() == null ? "" : p.getName(), protocol), List.copyOf(list));
        }
        return new EndpointSliceInfo(service, byPort);
    }

    /** Endpoints with port 1 as a placeholder; the caller fills in each slice port. */
    private static List<Endpoint> endpoints(EndpointSlice slice, IpFamily family, String hostname) {
        List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> eps =
                slice.getEndpoints() == null ? List.of() : slice.getEndpoints();
        List<Endpoint> out = new ArrayList<>(eps.size());
        for (int j = 0; j < eps.size(); j++) {
            io.fabric8.kubernetes.api.model.discovery.v1.Endpoint ep = eps.get(j);
            String field = "endpoints[" + j + "].addresses";
            if (ep.getAddresses() == null || ep.getAddresses().isEmpty()) {
                throw new ServiceConverter.InvalidField(field, "missing");
            }
            InetAddress ip;
            try {
                ip = IpAddresses.parse(ep.getAddresses().get(0));
            } catch (IllegalArgumentException e) {
                throw new ServiceConverter.InvalidField(field + "[0]", e.getMessage());
            }
            if (!family.contains(ip)) {
                throw new ServiceConverter.InvalidField(field + "[0]", "\"" + ep.getAddresses().get(0)
                        + "\" does not match addressType " + slice.getAddressType());
            }
            EndpointConditions c = ep.getConditions();
            // Upstream: unset ready/serving mean true, unset terminating means false.
            boolean ready = c == null || c.getReady() == null || c.getReady();
            boolean serving = c == null || c.getServing() == null || c.getServing();
            boolean terminating = c != null && c.getTerminating() != null && c.getTerminating();
            String nodeName = ep.getNodeName() == null ? "" : ep.getNodeName();
            out.add(new Endpoint(ip, 1, ready, serving, terminating, nodeName,
                    !nodeName.isEmpty() && nodeName.equals(hostname), zoneHints(ep.getHints()), nodeHints(ep.getHints())));
        }
        return out;
    }

    private static Set<String> zoneHints(EndpointHints hints) {
        Set<String> out = new HashSet<>();
        if (hints != null && hints.getForZones() != null) {
            for (ForZone z : hints.getForZones()) {
                if (z.getName() != null) {
                    out.add(z.getName());
                }
            }
        }
        return out;
    }

    private static Set<String> nodeHints(EndpointHints hints) {
        Set<String> out = new HashSet<>();
        if (hints != null && hints.getForNodes() != null) {
            for (ForNode n : hints.getForNodes()) {
                if (n.getName() != null) {
                    out.add(n.getName());
                }
            }
        }
        return out;
    }
}
