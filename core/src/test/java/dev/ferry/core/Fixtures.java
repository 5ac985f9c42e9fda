package dev.ferry.core;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Short builders for the API objects tests feed to the tracker. Shared with other modules'
 * tests through core's test-jar.
 */
public final class Fixtures {

    private Fixtures() {
    }

    /** A ClusterIP Service with one port per (name, port, protocol) triple. */
    public static Service clusterIPService(String ns, String name, String clusterIP, Object... namePortProtocol) {
        ServiceBuilder b = new ServiceBuilder()
                .withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP(clusterIP).withClusterIPs(clusterIP).endSpec();
        for (int i = 0; i < namePortProtocol.length; i += 3) {
            b.editSpec().addToPorts(new ServicePortBuilder()
                    .withName((String) namePortProtocol[i])
                    .withPort((Integer) namePortProtocol[i + 1])
                    .withProtocol((String) namePortProtocol[i + 2])
                    .withTargetPort(new IntOrString((Integer) namePortProtocol[i + 1]))
                    .build()).endSpec();
        }
        return b.build();
    }

    /** One endpoint of a slice: address, conditions, node, zone hints. */
    public record Ep(String ip, boolean ready, boolean serving, boolean terminating, String nodeName,
                     List<String> zoneHints, List<String> nodeHints) {
        public static Ep ready(String ip) {
            return new Ep(ip, true, true, false, null, List.of(), List.of());
        }

        public Ep onNode(String node) {
            return new Ep(ip, ready, serving, terminating, node, zoneHints, nodeHints);
        }

        public Ep terminating(boolean stillServing) {
            return new Ep(ip, false, stillServing, true, nodeName, zoneHints, nodeHints);
        }

        public Ep notReady() {
            return new Ep(ip, false, false, false, nodeName, zoneHints, nodeHints);
        }

        public Ep zones(String... zones) {
            return new Ep(ip, ready, serving, terminating, nodeName, List.of(zones), nodeHints);
        }

        public Ep nodes(String... nodes) {
            return new Ep(ip, ready, serving, terminating, nodeName, zoneHints, List.of(nodes));
        }
    }

    /** An IPv4 or IPv6 (by the first address) slice for one Service port. */
    public static EndpointSlice slice(String ns, String sliceName, String service, String portName, int port,
                                      String protocol, Ep... endpoints) {
        List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> eps = new ArrayList<>();
        for (Ep e : endpoints) {
            EndpointBuilder eb = new EndpointBuilder().withAddresses(e.ip())
                    .withNewConditions().withReady(e.ready()).withServing(e.serving()).withTerminating(e.terminating()).endConditions()
                    .withNodeName(e.nodeName());
            if (!e.zoneHints().isEmpty() || !e.nodeHints().isEmpty()) {
                eb.withNewHints().endHints();
                for (String z : e.zoneHints()) {
                    eb.editHints().addNewForZone().withName(z).endForZone().endHints();
                }
                for (String n : e.nodeHints()) {
                    eb.editHints().addNewForNode().withName(n).endForNode().endHints();
                }
            }
            eps.add(eb.build());
        }
        boolean v6 = endpoints.length > 0 && endpoints[0].ip().contains(":");
        return new EndpointSliceBuilder()
                .withNewMetadata().withNamespace(ns).withName(sliceName)
                .withLabels(Map.of("kubernetes.io/service-name", service)).endMetadata()
                .withAddressType(v6 ? "IPv6" : "IPv4")
                .withPorts(new EndpointPortBuilder().withName(portName).withPort(port).withProtocol(protocol).build())
                .withEndpoints(eps)
                .build();
    }

    public static Node node(String name, Map<String, String> labels) {
        return new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().build();
    }
}
