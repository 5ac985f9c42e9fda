package dev.ferry.proxy.inspect;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortState;
import dev.ferry.mode.inspect.Columns;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The text of {@code inspect services} and {@code inspect service NS/NAME}. */
final class ServiceReports {

    private ServiceReports() {
    }

    /** One line per service port, with a header. */
    static String services(ProxySnapshot snapshot, Programmed programmed) {
        Columns c = new Columns().row("SERVICE PORT", "PROTO", "TYPE", "CLUSTER-IPS", "NODE-PORT", "EXTERNAL/LB-IPS",
                "POLICY", "ENDPOINTS-IN/OUT", "PROGRAMMED");
        for (ServicePortState state : snapshot.servicePorts()) {
            ServicePort p = state.port();
            List<EndpointVerdicts.Verdict> verdicts = EndpointVerdicts.of(state, snapshot.node());
            long in = verdicts.stream().filter(EndpointVerdicts.Verdict::in).count();
            c.row(state.name().toString(), p.protocol().name(), type(p), p.clusterIPs().isEmpty() ? "-" : p.clusterIPs().stream()
                            .map(ip -> IpAddresses.hostPort(ip, p.port())).collect(Collectors.joining(",")),
                    p.nodePort() == 0 ? "-" : String.valueOf(p.nodePort()), externalAndLb(p), policies(p),
                    in + "/" + (verdicts.size() - in), programmed.summary(state));
        }
        return c.render("");
    }

    /** Every port of one Service, or null when the snapshot has none of it. */
    static String service(ProxySnapshot snapshot, NamespacedName service, Programmed programmed) {
        List<ServicePortState> ports = ports(snapshot, service);
        if (ports.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (ServicePortState state : ports) {
            ServicePort p = state.port();
            sb.append(state.name()).append(' ').append(p.protocol()).append(" (").append(type(p)).append(")\n");
            sb.append("  cluster IPs ").append(addresses(p.clusterIPs())).append(" port ").append(p.port())
                    .append("; node port ").append(p.nodePort() == 0 ? "-" : String.valueOf(p.nodePort()))
                    .append("; external/LB IPs ").append(externalAndLb(p)).append('\n');
            sb.append("  ").append(policies(p)).append(p.loadBalancerSourceRanges().isEmpty() ? ""
                    : "; source ranges " + p.loadBalancerSourceRanges().stream().map(Object::toString)
                    .collect(Collectors.joining(","))).append('\n');
            sb.append(programmed.details(state));
            List<EndpointVerdicts.Verdict> verdicts = EndpointVerdicts.of(state, snapshot.node());
            long in = verdicts.stream().filter(EndpointVerdicts.Verdict::in).count();
            sb.append("  endpoints: ").append(in).append(" in, ").append(verdicts.size() - in).append(" out\n");
            Columns c = new Columns();
            for (EndpointVerdicts.Verdict v : verdicts) {
                c.row(v.endpoint().hostPort(), "node " + (v.endpoint().nodeName().isEmpty() ? "-" : v.endpoint().nodeName()),
                        v.status(), v.reason());
            }
            sb.append(c.render("    "));
            sb.append('\n');
        }
        return sb.toString();
    }

    static List<ServicePortState> ports(ProxySnapshot snapshot, NamespacedName service) {
        List<ServicePortState> out = new ArrayList<>();
        for (ServicePortState s : snapshot.servicePorts()) {
            if (s.name().service().equals(service)) {
                out.add(s);
            }
        }
        return out;
    }

    /** The Service type as far as a service port shows it. */
    static String type(ServicePort p) {
        if (!p.loadBalancerIPs().isEmpty() || p.healthCheckNodePort() != 0 || !p.loadBalancerSourceRanges().isEmpty()) {
            return "LoadBalancer";
        }
        return p.nodePort() != 0 ? "NodePort" : "ClusterIP";
    }

    static String addresses(List<InetAddress> ips) {
        return ips.isEmpty() ? "-" : ips.stream().map(IpAddresses::format).collect(Collectors.joining(","));
    }

    private static String externalAndLb(ServicePort p) {
        List<String> all = new ArrayList<>();
        p.externalIPs().forEach(ip -> all.add(IpAddresses.format(ip)));
        p.loadBalancerIPs().forEach(ip -> all.add(IpAddresses.format(ip) + "(LB)"));
        return all.isEmpty() ? "-" : String.join(",", all);
    }

    /** "internal=Cluster external=Local affinity=ClientIP/10800s". */
    static String policies(ServicePort p) {
        StringBuilder sb = new StringBuilder("internal=").append(p.internalPolicyLocal() ? "Local" : "Cluster");
        if (p.externallyAccessible()) {
            sb.append(" external=").append(p.externalPolicyLocal() ? "Local" : "Cluster");
        }
        if (p.sessionAffinity()) {
            sb.append(" affinity=ClientIP/").append(p.stickyMaxAgeSeconds()).append('s');
        }
        return sb.toString();
    }
}
