package dev.ferry.core;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Upstream's CategorizeEndpoints cases (pkg/proxy/topology_test.go), with terminating-endpoint
 * fallback on and hints honoured whenever every ready endpoint has them, as upstream now does.
 *
 * <p>Endpoint spec: "ip:port" then flags: R ready, S serving, T terminating, L local,
 * z=zoneA,zoneB zone hints, n=node1 node hints. Expected sets: "-" means "not used" (empty list),
 * "" means used but empty.
 */
class EndpointSelectorTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                c("zone hints filter the cluster set", "", "zone-a",
                        "10.1.2.3:80 R z=zone-a|10.1.2.4:80 R z=zone-b|10.1.2.5:80 R z=zone-c|10.1.2.6:80 R z=zone-a",
                        "10.1.2.3:80 10.1.2.6:80", "-", "10.1.2.3:80 10.1.2.6:80", true),
                c("eTP Local: topology ignored for local endpoints", "nodePort etp", "zone-a",
                        "10.1.2.3:80 R L z=zone-a|10.1.2.4:80 R L z=zone-b|10.1.2.5:80 R z=zone-c|10.1.2.6:80 R z=zone-a",
                        "10.1.2.3:80 10.1.2.6:80", "10.1.2.3:80 10.1.2.4:80", "10.1.2.3:80 10.1.2.4:80 10.1.2.6:80", true),
                c("iTP Local: topology ignored for local endpoints", "nodePort itp", "zone-a",
                        "10.1.2.3:80 R L z=zone-a|10.1.2.4:80 R L z=zone-b|10.1.2.5:80 R z=zone-c|10.1.2.6:80 R z=zone-a",
                        "10.1.2.3:80 10.1.2.6:80", "10.1.2.3:80 10.1.2.4:80", "10.1.2.3:80 10.1.2.4:80 10.1.2.6:80", true),
                c("empty node labels: hints ignored", "", "",
                        "10.1.2.3:80 R z=zone-a", "10.1.2.3:80", "-", "10.1.2.3:80", true),
                c("node in a zone no endpoint is hinted for: no filtering", "", "zone-b",
                        "10.1.2.3:80 R z=zone-a", "10.1.2.3:80", "-", "10.1.2.3:80", true),
                c("unready endpoint in the zone is not used", "", "zone-a",
                        "10.1.2.3:80 R z=zone-a|10.1.2.4:80 R z=zone-b|10.1.2.5:80 R z=zone-c|10.1.2.6:80 z=zone-a",
                        "10.1.2.3:80", "-", "10.1.2.3:80", true),
                c("only unready endpoints in the zone: no filtering", "", "zone-a",
                        "10.1.2.3:80 z=zone-a|10.1.2.4:80 R z=zone-b|10.1.2.5:80 R z=zone-c|10.1.2.6:80 z=zone-a",
                        "10.1.2.4:80 10.1.2.5:80", "-", "10.1.2.4:80 10.1.2.5:80", true),
                c("one ready endpoint without hints: no filtering", "", "zone-a",
                        "10.1.2.3:80 R z=zone-a|10.1.2.4:80 R z=zone-b|10.1.2.5:80 R|10.1.2.6:80 R z=zone-a",
                        "10.1.2.3:80 10.1.2.4:80 10.1.2.5:80 10.1.2.6:80", "-",
                        "10.1.2.3:80 10.1.2.4:80 10.1.2.5:80 10.1.2.6:80", true),
                c("several hints per endpoint", "", "zone-c",
                        "10.1.2.3:80 R z=zone-a,zone-b,zone-c|10.1.2.4:80 R z=zone-b,zone-c|10.1.2.5:80 R z=zone-b,zone-d|10.1.2.6:80 R z=zone-c",
                        "10.1.2.3:80 10.1.2.4:80 10.1.2.6:80", "-", "10.1.2.3:80 10.1.2.4:80 10.1.2.6:80", true),
                c("node hints win over zone hints", "", "zone-a",
                        "10.1.2.3:80 R z=zone-a n=node1|10.1.2.4:80 R z=zone-a n=node2",
                        "10.1.2.3:80", "-", "10.1.2.3:80", true),
                c("node hints for other nodes only: fall back to zone hints", "", "zone-a",
                        "10.1.2.3:80 R z=zone-a n=node2|10.1.2.4:80 R z=zone-b n=node3",
                        "10.1.2.3:80", "-", "10.1.2.3:80", true),
                c("conflicting topology and localness are merged", "nodePort etp", "zone-a",
                        "10.0.0.0:80 R L z=zone-a|10.0.0.1:80 R L z=zone-b|10.0.0.2:80 R z=zone-a|10.0.0.3:80 R z=zone-b",
                        "10.0.0.0:80 10.0.0.2:80", "10.0.0.0:80 10.0.0.1:80", "10.0.0.0:80 10.0.0.1:80 10.0.0.2:80", true),
                c("iTP Local, no endpoints", "itp", "", "", "-", "", "", false),
                c("iTP Local, all endpoints remote", "itp", "",
                        "10.0.0.0:80 R|10.0.0.1:80 R", "-", "", "", true),
                c("iTP Local, all endpoints local", "itp", "",
                        "10.0.0.0:80 R L|10.0.0.1:80 R L", "-", "10.0.0.0:80 10.0.0.1:80", "10.0.0.0:80 10.0.0.1:80", true),
                c("iTP Local, some endpoints local", "itp", "",
                        "10.0.0.0:80 R L|10.0.0.1:80 R", "-", "10.0.0.0:80", "10.0.0.0:80", true),
                c("cluster policy, no endpoint ready", "", "",
                        "10.0.0.0:80|10.0.0.1:80", "", "-", "", false),
                c("cluster policy, some ready", "", "",
                        "10.0.0.0:80|10.0.0.1:80 R", "10.0.0.1:80", "-", "10.0.0.1:80", true),
                c("cluster policy, all terminating but serving: fallback", "", "",
                        "10.0.0.0:80 S T L|10.0.0.1:80 S T", "10.0.0.0:80 10.0.0.1:80", "-", "10.0.0.0:80 10.0.0.1:80", true),
                c("terminating and not serving is never used", "", "",
                        "10.0.0.0:80 T|10.0.0.1:80 T", "", "-", "", false),
                c("iTP Local, eTP Cluster, some local", "nodePort itp", "",
                        "10.0.0.0:80 R L|10.0.0.1:80 R", "10.0.0.0:80 10.0.0.1:80", "10.0.0.0:80", "10.0.0.0:80 10.0.0.1:80", true),
                c("iTP Cluster, eTP Local, some local", "nodePort etp", "",
                        "10.0.0.0:80 R L|10.0.0.1:80 R", "10.0.0.0:80 10.0.0.1:80", "10.0.0.0:80", "10.0.0.0:80 10.0.0.1:80", true),
                c("iTP Local, eTP Local, all remote", "nodePort itp etp", "",
                        "10.0.0.0:80 R|10.0.0.1:80 R", "10.0.0.0:80 10.0.0.1:80", "", "10.0.0.0:80 10.0.0.1:80", true),
                c("iTP Local, eTP Local, all remote and terminating", "nodePort itp etp", "",
                        "10.0.0.0:80 S T|10.0.0.1:80 S T", "10.0.0.0:80 10.0.0.1:80", "", "10.0.0.0:80 10.0.0.1:80", true),
                c("eTP Local: local set falls back to serving-terminating separately", "nodePort etp", "",
                        "10.0.0.0:80 R|10.0.0.1:80 L|10.0.0.2:80 S T L|10.0.0.3:80 S T",
                        "10.0.0.0:80", "10.0.0.2:80", "10.0.0.0:80 10.0.0.2:80", true),
                c("eTP Local ignored when not externally accessible", "etp", "",
                        "10.0.0.0:80 R|10.0.0.1:80 R L", "10.0.0.0:80 10.0.0.1:80", "-", "10.0.0.0:80 10.0.0.1:80", true),
                c("iTP Local internal-only: no cluster set", "itp", "",
                        "10.0.0.0:80 R|10.0.0.1:80 R L", "-", "10.0.0.1:80", "10.0.0.1:80", true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void categorizes(String name, ServicePort port, NodeInfo node, List<Endpoint> endpoints,
                     String cluster, String local, String all, boolean hasAny) {
        EndpointSelection s = EndpointSelector.select(port, endpoints, node);
        assertEquals(set(cluster), names(s.clusterEndpoints()), "cluster endpoints");
        assertEquals(set(local), names(s.localEndpoints()), "local endpoints");
        assertEquals(set(all), names(s.allReachable()), "all reachable endpoints");
        assertEquals(hasAny, s.hasAnyEndpoints(), "hasAnyEndpoints");
    }

    private static Arguments c(String name, String svcFlags, String zone, String eps,
                               String cluster, String local, String all, boolean hasAny) {
        Set<String> f = new HashSet<>(Arrays.asList(svcFlags.split(" ")));
        ServicePort port = new ServicePort(new ServicePortName("ns", "svc", "p", Protocol.TCP),
                List.of(IpAddresses.parse("172.30.0.1")), 80, f.contains("nodePort") ? 30080 : 0,
                List.of(), List.of(), List.of(), 0, f.contains("etp") && f.contains("nodePort"),
                f.contains("itp"), 0, "");
        NodeInfo node = new NodeInfo("node1", zone.isEmpty() ? Map.of() : Map.of(NodeInfo.ZONE_LABEL, zone));
        List<Endpoint> endpoints = new ArrayList<>();
        for (String spec : eps.isEmpty() ? new String[0] : eps.split("\\|")) {
            endpoints.add(endpoint(spec));
        }
        return Arguments.of(name, port, node, endpoints, cluster, local, all, hasAny);
    }

    private static Endpoint endpoint(String spec) {
        String[] parts = spec.split(" ");
        String[] hp = parts[0].split(":");
        Set<String> flags = new HashSet<>();
        Set<String> zones = Set.of();
        Set<String> nodes = Set.of();
        for (int i = 1; i < parts.length; i++) {
            if (parts[i].startsWith("z=")) {
                zones = Set.of(parts[i].substring(2).split(","));
            } else if (parts[i].startsWith("n=")) {
                nodes = Set.of(parts[i].substring(2).split(","));
            } else {
                flags.add(parts[i]);
            }
        }
        boolean ready = flags.contains("R");
        boolean serving = ready || flags.contains("S");
        return new Endpoint(IpAddresses.parse(hp[0]), Integer.parseInt(hp[1]), ready, serving, flags.contains("T"),
                flags.contains("L") ? "node1" : "node9", flags.contains("L"), zones, nodes);
    }

    private static Set<String> set(String spec) {
        if (spec.equals("-") || spec.isEmpty()) {
            return Set.of();
        }
        return new TreeSet<>(Arrays.asList(spec.split(" ")));
    }

    private static Set<String> names(List<Endpoint> eps) {
        return eps.stream().map(Endpoint::hostPort).collect(Collectors.toCollection(TreeSet::new));
    }
}
