package dev.ferry.bench;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.ProxySnapshot;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A synthetic cluster like upstream's scale benchmark: {@code services} ClusterIP Services with
 * one TCP port each, each backed by one EndpointSlice of {@code endpointsPerService} ready
 * endpoints spread over 50 other nodes. Objects are built on demand so a caller can drop them
 * after feeding the tracker (the heap figure then shows what the proxy keeps, not the input).
 *
 * <p>Addresses: Service i has ClusterIP 172.30.(i/256).(i%256); endpoint j of Service i has
 * 10.(1 + k/65536).(k/256%256).(k%256) with k = i * endpointsPerService + j, so 10,000 x 10
 * fits in 10.1.0.0-10.2.255.255. {@link #changedSlice} moves one endpoint to 10.200.x.y.
 */
public final class Cluster {

    public static final String NODE = "bench-node";
    public static final int PORT = 80;

    private final int services;
    private final int endpointsPerService;

    public Cluster(int services, int endpointsPerService) {
        if (services < 1 || services > 65_536) {
            throw new IllegalArgumentException("services must be 1..65536, got " + services);
        }
        if (endpointsPerService < 0 || (long) services * endpointsPerService > 65_536L * 200) {
            throw new IllegalArgumentException("endpointsPerService out of range: " + endpointsPerService);
        }
        this.services = services;
        this.endpointsPerService = endpointsPerService;
    }

    public int services() {
        return services;
    }

    public int endpointsPerService() {
        return endpointsPerService;
    }

    static String namespace(int i) {
        return "bench-" + (i / 1000);
    }

    static String serviceName(int i) {
        return "svc-" + i;
    }

    public Service service(int i) {
        String ip = "172.30." + (i / 256) + "." + (i % 256);
        return new ServiceBuilder()
                .withNewMetadata().withNamespace(namespace(i)).withName(serviceName(i)).endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP(ip).withClusterIPs(ip)
                .withPorts(new ServicePortBuilder().withName("p80").withPort(PORT).withProtocol("TCP")
                        .withTargetPort(new IntOrString(PORT)).build())
                .endSpec().build();
    }

    public EndpointSlice slice(int i) {
        List<String> ips = new ArrayList<>(endpointsPerService);
        for (int j = 0; j < endpointsPerService; j++) {
            int k = i * endpointsPerService + j;
            ips.add("10." + (1 + k / 65_536) + "." + (k / 256 % 256) + "." + (k % 256));
        }
        return slice(i, ips);
    }

    /**
     * Service i's slice with its first endpoint replaced: {@code version} 0 is the original,
     * any other version a new address (so alternating versions keeps changing the Service).
     */
    public EndpointSlice changedSlice(int i, int version) {
        EndpointSlice original = slice(i);
        if (version == 0 || endpointsPerService == 0) {
            return original;
        }
        List<String> ips = new ArrayList<>();
        for (Endpoint e : original.getEndpoints()) {
            ips.add(e.getAddresses().get(0));
        }
        ips.set(0, "10.200." + (version / 256 % 256) + "." + (version % 256));
        return slice(i, ips);
    }

    private EndpointSlice slice(int i, List<String> ips) {
        List<Endpoint> eps = new ArrayList<>(ips.size());
        for (int j = 0; j < ips.size(); j++) {
            eps.add(new EndpointBuilder().withAddresses(ips.get(j))
                    .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions()
                    .withNodeName("node-" + ((i + j) % 50)).build());
        }
        return new EndpointSliceBuilder()
                .withNewMetadata().withNamespace(namespace(i)).withName(serviceName(i) + "-abcde")
                .withLabels(Map.of("kubernetes.io/service-name", serviceName(i))).endMetadata()
                .withAddressType("IPv4")
                .withPorts(new EndpointPortBuilder().withName("p80").withPort(PORT).withProtocol("TCP").build())
                .withEndpoints(eps)
                .build();
    }

    /** A tracker for {@link #NODE} that reports invalid objects as a failure (our input is valid). */
    public static ChangeTracker newTracker() {
        return new ChangeTracker(NODE, (object, field, message) -> {
            throw new IllegalStateException("benchmark input rejected: " + object + " " + field + ": " + message);
        }, () -> { });
    }

    /** Feeds every Service and slice to {@code tracker} (objects are dropped as it goes). */
    public void feed(ChangeTracker tracker) {
        for (int i = 0; i < services; i++) {
            tracker.updateService(null, service(i));
            tracker.updateEndpointSlice(null, slice(i));
        }
    }

    /** A fresh tracker with the whole cluster applied, and its first (full) snapshot. */
    public ProxySnapshot fullSnapshot(ChangeTracker tracker) {
        feed(tracker);
        return tracker.snapshot();
    }
}
