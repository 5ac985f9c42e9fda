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

    /** An IPv4 EndpointSlice of Service {@code service} with every address ready. */
    static String slice(String service, String sliceName, List<Port> ports, List<String> readyIps) {
        String portLines = ports.stream().map(p -> """
                  - name: %s
                    port: %d
                    protocol: %s
                """.formatted(p.name(), p.targetPort(), p.protocol())).collect(Collectors.joining());
        String endpointLines = readyIps.stream().map(ip -> """
                  - addresses: [%s]
                    conditions: {ready: true, serving: true, terminating: false}
                """.formatted(ip)).collect(Collectors.joining());
        return """
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: %s
                  namespace: default
                  labels:
                    kubernetes.io/service-name: %s
                addressType: IPv4
                ports:
                %sendpoints:%s
                %s""".formatted(sliceName, service, portLines, readyIps.isEmpty() ? " []" : "", endpointLines);
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
