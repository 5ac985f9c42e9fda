package dev.ferry.iptables;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;

import java.util.ArrayList;
import java.util.List;

/** A short builder for the Services of upstream's tests (one TCP port named p80 unless told). */
final class Svc {

    private final ServiceBuilder b;
    private final List<LoadBalancerIngress> ingress = new ArrayList<>();

    private Svc(String ns, String name, String type, String... clusterIPs) {
        b = new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withNewSpec().withType(type).withClusterIP(clusterIPs[0]).withClusterIPs(clusterIPs).endSpec();
    }

    static Svc of(String ns, String name, String type, String... clusterIPs) {
        return new Svc(ns, name, type, clusterIPs);
    }

    Svc port(String name, int port, String protocol, int nodePort) {
        ServicePortBuilder p = new ServicePortBuilder().withName(name).withPort(port).withProtocol(protocol)
                .withTargetPort(new IntOrString(port));
        if (nodePort != 0) {
            p.withNodePort(nodePort);
        }
        b.editSpec().addToPorts(p.build()).endSpec();
        return this;
    }

    Svc p80(int nodePort) {
        return port("p80", 80, "TCP", nodePort);
    }

    Svc externalIPs(String... ips) {
        b.editSpec().withExternalIPs(ips).endSpec();
        return this;
    }

    Svc lb(String... ips) {
        for (String ip : ips) {
            ingress.add(new io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder().withIp(ip).build());
        }
        return this;
    }

    Svc lbProxyMode(String ip) {
        ingress.add(new io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder().withIp(ip).withIpMode("Proxy").build());
        return this;
    }

    Svc sourceRanges(String... cidrs) {
        b.editSpec().withLoadBalancerSourceRanges(cidrs).endSpec();
        return this;
    }

    Svc etpLocal(int healthCheckNodePort) {
        b.editSpec().withExternalTrafficPolicy("Local").endSpec();
        if (healthCheckNodePort != 0) {
            b.editSpec().withHealthCheckNodePort(healthCheckNodePort).endSpec();
        }
        return this;
    }

    Svc etpCluster() {
        b.editSpec().withExternalTrafficPolicy("Cluster").endSpec();
        return this;
    }

    Svc itpLocal() {
        b.editSpec().withInternalTrafficPolicy("Local").endSpec();
        return this;
    }

    Svc healthCheckNodePort(int port) {
        b.editSpec().withHealthCheckNodePort(port).endSpec();
        return this;
    }

    Svc affinity(int seconds) {
        b.editSpec().withSessionAffinity("ClientIP").withNewSessionAffinityConfig().withNewClientIP()
                .withTimeoutSeconds(seconds).endClientIP().endSessionAffinityConfig().endSpec();
        return this;
    }

    Svc families(String... families) {
        b.editSpec().withIpFamilies(families).endSpec();
        return this;
    }

    Service build() {
        Service s = b.build();
        if (!ingress.isEmpty()) {
            s.setStatus(new io.fabric8.kubernetes.api.model.ServiceStatusBuilder().withNewLoadBalancer()
                    .withIngress(ingress).endLoadBalancer().build());
        }
        return s;
    }
}
