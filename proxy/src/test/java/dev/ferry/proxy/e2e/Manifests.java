package dev.ferry.proxy.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Kubernetes objects as YAML text, and a manifests directory written the way an editor or a
 * config-management tool would: a temp file renamed into place, so the proxy never reads half a file.
 */
final class Manifests {
    /** A Service port and the endpoint port it maps to. */
    record Port(String name, int port, int targetPort, String protocol) {
    }

    static final Port HTTP = new Port("http", 80, Topology.NAME_TCP_PORT, "TCP");
    static final Port DNS = new Port("dns", 53, Topology.NAME_UDP_PORT, "UDP");
    static final Port ECHO = new Port("echo", 7, Topology.ECHO_PORT, "TCP");
    static final List<Port> ALL_PORTS = List.of(HTTP, DNS, ECHO);

    private final Path dir;

    Manifests(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    void write(String file, String content) {
        try {
            Path tmp = dir.resolve("." + file + ".partial");
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, dir.resolve(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void delete(String file) {
        try {
            Files.deleteIfExists(dir.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A ClusterIP Service in namespace default. */
    static String service(String name, String clusterIp, List<Port> ports) {
        String portLines = ports.stream().map(p -> """
                  - name: %s
                    port: %d
                    targetPort: %d
                    protocol: %s
                """.formatted(p.name(), p.port(), p.targetPort(), p.protocol())).collect(Collectors.joining());
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %s
                  namespace: default
                spec:
                  type: ClusterIP
                  clusterIP: %s
                  clusterIPs: [%s]
                  ports:
                %s""".formatted(name, clusterIp, clusterIp, portLines);
    }

    /** An IPv4 EndpointSlice of Service {@code service} with every address ready and on no node. */
    static String slice(String service, String sliceName, List<Port> ports, List<String> readyIps) {
        return slice(service, sliceName, ports, "IPv4", readyIps.stream().map(ip -> new Ep(ip, "")).toList());
    }

    /** An endpoint of a slice: its address and the node it runs on ("" for none). */
    record Ep(String ip, String nodeName) {
    }

    /** A slice of any address type whose endpoints (ready) name their node. */
    static String slice(String service, String sliceName, List<Port> ports, String addressType, List<Ep> endpoints) {
        String portLines = ports.stream().map(p -> """
                  - name: %s
                    port: %d
                    protocol: %s
                """.formatted(p.name(), p.targetPort(), p.protocol())).collect(Collectors.joining());
        String endpointLines = endpoints.stream().map(e -> """
                  - addresses: ["%s"]
                    conditions: {ready: true, serving: true, terminating: false}
                """.formatted(e.ip()) + (e.nodeName().isEmpty() ? "" : "    nodeName: " + e.nodeName() + "\n"))
                .collect(Collectors.joining());
        return """
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: %s
                  namespace: default
                  labels:
                    kubernetes.io/service-name: %s
                addressType: %s
                ports:
                %sendpoints:%s
                %s""".formatted(sliceName, service, addressType, portLines, endpoints.isEmpty() ? " []" : "", endpointLines);
    }

    /**
     * A Service of any type, field by field, in namespace default; unset fields are left out.
     * {@link #yaml()} renders it.
     */
    static final class Svc {
        private final String name;
        private String type = "ClusterIP";
        private List<String> clusterIps = List.of();
        private final List<String> portLines = new java.util.ArrayList<>();
        private List<String> externalIps = List.of();
        private List<String> ingressIps = List.of();
        private List<String> sourceRanges = List.of();
        private String externalTrafficPolicy;
        private int healthCheckNodePort;
        private int affinitySeconds;

        Svc(String name) {
            this.name = name;
        }

        /** type NodePort, LoadBalancer or ClusterIP (the default). */
        Svc type(String type) {
            this.type = type;
            return this;
        }

        /** One address, or one per family for dual stack (the families follow the order). */
        Svc clusterIps(String... ips) {
            this.clusterIps = List.of(ips);
            return this;
        }

        Svc port(Port p) {
            return port(p, 0);
        }

        /** A port with a nodePort (0: none). */
        Svc port(Port p, int nodePort) {
            portLines.add("""
                      - name: %s
                        port: %d
                        targetPort: %d
                        protocol: %s
                    """.formatted(p.name(), p.port(), p.targetPort(), p.protocol())
                    + (nodePort == 0 ? "" : "    nodePort: " + nodePort + "\n"));
            return this;
        }

        Svc externalIps(String... ips) {
            this.externalIps = List.of(ips);
            return this;
        }

        /** status.loadBalancer.ingress IPs (ipMode unset, i.e. VIP). */
        Svc loadBalancerIngress(String... ips) {
            this.ingressIps = List.of(ips);
            return this;
        }

        Svc sourceRanges(String... cidrs) {
            this.sourceRanges = List.of(cidrs);
            return this;
        }

        Svc externalTrafficPolicyLocal(int healthCheckNodePort) {
            this.externalTrafficPolicy = "Local";
            this.healthCheckNodePort = healthCheckNodePort;
            return this;
        }

        /** sessionAffinity ClientIP with this timeout. */
        Svc clientIpAffinity(int timeoutSeconds) {
            this.affinitySeconds = timeoutSeconds;
            return this;
        }

        String yaml() {
            if (clusterIps.isEmpty() || portLines.isEmpty()) {
                throw new IllegalStateException("Service " + name + " needs a cluster IP and a port");
            }
            StringBuilder b = new StringBuilder("""
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: %s
                      namespace: default
                    spec:
                      type: %s
                      clusterIP: "%s"
                      clusterIPs: [%s]
                      ipFamilies: [%s]
                      ipFamilyPolicy: %s
                    """.formatted(name, type, clusterIps.get(0), quoted(clusterIps),
                    clusterIps.stream().map(ip -> ip.contains(":") ? "IPv6" : "IPv4").collect(Collectors.joining(", ")),
                    clusterIps.size() > 1 ? "RequireDualStack" : "SingleStack"));
            b.append("  ports:\n").append(String.join("", portLines));
            if (!externalIps.isEmpty()) {
                b.append("  externalIPs: [").append(quoted(externalIps)).append("]\n");
            }
            if (!sourceRanges.isEmpty()) {
                b.append("  loadBalancerSourceRanges: [").append(quoted(sourceRanges)).append("]\n");
            }
            if (externalTrafficPolicy != null) {
                b.append("  externalTrafficPolicy: ").append(externalTrafficPolicy).append("\n");
                if (healthCheckNodePort != 0) {
                    b.append("  healthCheckNodePort: ").append(healthCheckNodePort).append("\n");
                }
            }
            if (affinitySeconds != 0) {
                b.append("  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: ")
                        .append(affinitySeconds).append("\n");
            }
            if (!ingressIps.isEmpty()) {
                b.append("status:\n  loadBalancer:\n    ingress:\n");
                ingressIps.forEach(ip -> b.append("    - ip: \"").append(ip).append("\"\n"));
            }
            return b.toString();
        }

        private static String quoted(List<String> values) {
            return values.stream().map(v -> "\"" + v + "\"").collect(Collectors.joining(", "));
        }
    }

    static String node(String name) {
        return """
                apiVersion: v1
                kind: Node
                metadata:
                  name: %s
                  labels:
                    kubernetes.io/hostname: %s
                """.formatted(name, name);
    }

    /** Backend pod IPs for names b1, b2, … */
    static List<String> ips(String... backends) {
        return java.util.Arrays.stream(backends).map(Topology::backendIp).toList();
    }
}
