package dev.ferry.bench.forward;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The proxy's input for the benchmark: a Node, one-port ClusterIP Services, one-endpoint EndpointSlices (YAML). */
final class Manifests {

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

    /** A ClusterIP Service in namespace default with one TCP port whose targetPort is the port's name. */
    static String service(String name, String clusterIp, String portName, int port) {
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %s
                  namespace: default
                spec:
                  type: ClusterIP
                  clusterIP: "%s"
                  clusterIPs: ["%s"]
                  ports:
                  - name: %s
                    port: %d
                    targetPort: %s
                    protocol: TCP
                """.formatted(name, clusterIp, clusterIp, portName, port, portName);
    }

    /** An IPv4 slice of {@code service} with one ready endpoint; one slice per endpoint port, as the ports differ. */
    static String slice(String service, String sliceName, String portName, String ip, int port) {
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
                - name: %s
                  port: %d
                  protocol: TCP
                endpoints:
                - addresses: ["%s"]
                  conditions: {ready: true, serving: true, terminating: false}
                """.formatted(sliceName, service, portName, port, ip);
    }

    static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:")).anyMatch(l -> l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    private Manifests() {
    }
}
