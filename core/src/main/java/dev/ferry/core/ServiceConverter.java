package dev.ferry.core;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a v1 Service into the service ports this node programs. Services that are not ours
 * to program (another proxy's, headless, ExternalName) give an empty map silently; a Service
 * with an invalid field is reported, naming the field, and gives an empty map as well.
 */
final class ServiceConverter {

    /** Services with this label belong to another proxy. */
    static final String SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name";
    static final int DEFAULT_STICKY_SECONDS = 10800;
    private static final int MAX_STICKY_SECONDS = 86400;

    private ServiceConverter() {
    }

    static Map<ServicePortName, ServicePort> convert(Service service, Problems problems) {
        if (service == null) {
            return Map.of();
        }
        try {
            return doConvert(service);
        } catch (InvalidField e) {
            problems.report(describe(service), e.field, e.getMessage());
            return Map.of();
        }
    }

    private static String describe(Service service) {
        ObjectMeta m = service.getMetadata();
        String ns = m == null || m.getNamespace() == null ? "?" : m.getNamespace();
        String name = m == null || m.getName() == null ? "?" : m.getName();
        return "Service " + Names.printable(ns) + "/" + Names.printable(name);
    }

    private static Map<ServicePortName, ServicePort> doConvert(Service service) {
        ObjectMeta meta = service.getMetadata();
        if (meta == null || meta.getName() == null || meta.getName().isEmpty()) {
            throw new InvalidField("metadata.name", "missing");
        }
        String namespace = meta.getNamespace() == null || meta.getNamespace().isEmpty() ? "default" : meta.getNamespace();
        Names.checkLabel(meta.getName(), "metadata.name");
        Names.checkLabel(namespace, "metadata.namespace");
        if (meta.getLabels() != null && meta.getLabels().containsKey(SERVICE_PROXY_NAME_LABEL)) {
            return Map.of();
        }
        ServiceSpec spec = service.getSpec();
        if (spec == null) {
            throw new InvalidField("spec", "missing");
        }
        if ("ExternalName".equals(spec.getType())) {
            return Map.of();
        }
        List<InetAddress> clusterIPs = clusterIPs(spec);
        if (clusterIPs.isEmpty()) {
            return Map.of(); // headless
        }
        List<InetAddress> externalIPs = ips(spec.getExternalIPs(), "spec.externalIPs");
        List<InetAddress> lbIPs = loadBalancerIPs(service);
        List<Cidr> sourceRanges = new ArrayList<>();
        List<String> ranges = spec.getLoadBalancerSourceRanges();
        for (int i = 0; ranges != null && i < ranges.size(); i++) {
            try {
                sourceRanges.add(Cidr.parse(ranges.get(i)));
            } catch (IllegalArgumentException e) {
                throw new InvalidField("spec.loadBalancerSourceRanges[" + i + "]", e.getMessage());
            }
        }
        int sticky = stickySeconds(spec);
        String type = spec.getType() == null ? "ClusterIP" : spec.getType();
        boolean externallyAccessible = "NodePort".equals(type) || "LoadBalancer".equals(type) || !externalIPs.isEmpty();
        boolean externalLocal = externallyAccessible && "Local".equals(spec.getExternalTrafficPolicy());
        boolean internalLocal = "Local".equals(spec.getInternalTrafficPolicy());
        int hcnp = 0;
        if ("LoadBalancer".equals(type) && externalLocal && spec.getHealthCheckNodePort() != null) {
            hcnp = port(spec.getHealthCheckNodePort(), "spec.healthCheckNodePort", 0);
        }
        if (!"LoadBalancer".equals(type)) {
            lbIPs = List.of(); // status left over from an earlier type is not served
        }

        List<io.fabric8.kubernetes.api.model.ServicePort> ports = spec.getPorts();
        if (ports == null || ports.isEmpty()) {
            return Map.of();
        }
        Map<ServicePortName, ServicePort> out = new LinkedHashMap<>();
        for (int i = 0; i < ports.size(); i++) {
            io.fabric8.kubernetes.api.model.ServicePort p = ports.get(i);
            String field = "spec.ports[" + i + "]";
            Protocol protocol;
            try {
                protocol = Protocol.parse(p.getProtocol());
            } catch (IllegalArgumentException e) {
                throw new InvalidField(field + ".protocol", e.getMessage());
            }
            if (p.getPort() == null) {
                throw new InvalidField(field + ".port", "missing");
            }
            int port = port(p.getPort(), field + ".port", 1);
            if (p.getName() != null && !p.getName().isEmpty()) {
                Names.checkLabel(p.getName(), field + ".name");
            }
            int nodePort = "ClusterIP".equals(type) || p.getNodePort() == null ? 0 : port(p.getNodePort(), field + ".nodePort", 0);
            ServicePortName name = new ServicePortName(namespace, meta.getName(), p.getName(), protocol);
            if (out.containsKey(name)) {
                throw new InvalidField(field + ".name", "duplicate port name \"" + name.port() + "\" for " + protocol);
            }
            out.put(name, new ServicePort(name, clusterIPs, port, nodePort, externalIPs, lbIPs, sourceRanges,
                    sticky, externalLocal, internalLocal, hcnp, spec.getTrafficDistribution()));
        }
        return out;
    }

    private static List<InetAddress> clusterIPs(ServiceSpec spec) {
        List<String> raw = spec.getClusterIPs() != null && !spec.getClusterIPs().isEmpty()
                ? spec.getClusterIPs()
                : spec.getClusterIP() == null ? List.of() : List.of(spec.getClusterIP());
        if (raw.isEmpty() || raw.get(0) == null || raw.get(0).isEmpty() || "None".equals(raw.get(0))) {
            if (raw.isEmpty() || raw.get(0) == null || raw.get(0).isEmpty()) {
                throw new InvalidField("spec.clusterIP", "missing (use \"None\" for a headless Service)");
            }
            return List.of();
        }
        String field = spec.getClusterIPs() != null && !spec.getClusterIPs().isEmpty() ? "spec.clusterIPs" : "spec.clusterIP";
        List<InetAddress> ips = ips(raw, field);
        if (ips.size() > 2 || (ips.size() == 2 && IpFamily.of(ips.get(0)) == IpFamily.of(ips.get(1)))) {
            throw new InvalidField(field, "at most one address per IP family");
        }
        return ips;
    }

    private static List<InetAddress> loadBalancerIPs(Service service) {
        if (service.getStatus() == null || service.getStatus().getLoadBalancer() == null
                || service.getStatus().getLoadBalancer().getIngress() == null) {
            return List.of();
        }
        List<LoadBalancerIngress> ingress = service.getStatus().getLoadBalancer().getIngress();
        List<InetAddress> out = new ArrayList<>();
        for (int i = 0; i < ingress.size(); i++) {
            LoadBalancerIngress in = ingress.get(i);
            if (in.getIp() == null || in.getIp().isEmpty()) {
                continue; // hostname-only ingress: nothing for the data plane
            }
            String mode = in.getIpMode();
            if (mode != null && !mode.isEmpty() && !"VIP".equals(mode)) {
                continue; // ipMode Proxy: the load balancer delivers to the node, not to the VIP
            }
            try {
                out.add(IpAddresses.parse(in.getIp()));
            } catch (IllegalArgumentException e) {
                throw new InvalidField("status.loadBalancer.ingress[" + i + "].ip", e.getMessage());
            }
        }
        return out;
    }

    private static int stickySeconds(ServiceSpec spec) {
        if (!"ClientIP".equals(spec.getSessionAffinity())) {
            return 0;
        }
        if (spec.getSessionAffinityConfig() == null || spec.getSessionAffinityConfig().getClientIP() == null
                || spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds() == null) {
            return DEFAULT_STICKY_SECONDS;
        }
        int t = spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
        if (t < 1 || t > MAX_STICKY_SECONDS) {
            throw new InvalidField("spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    t + " out of range 1.." + MAX_STICKY_SECONDS);
        }
        return t;
    }

    private static List<InetAddress> ips(List<String> values, String field) {
        if (values == null) {
            return List.of();
        }
        List<InetAddress> out = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            try {
                out.add(IpAddresses.parse(values.get(i) == null ? "" : values.get(i).trim()));
            } catch (IllegalArgumentException e) {
                throw new InvalidField(field + "[" + i + "]", e.getMessage());
            }
        }
        return out;
    }

    static int port(Integer value, String field, int min) {
        if (value < min || value > 65535) {
            throw new InvalidField(field, value + " out of range " + min + "..65535");
        }
        return value;
    }

    /** A field that makes the whole object unusable. */
    static final class InvalidField extends RuntimeException {
        final String field;

        InvalidField(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }
    }
}
