package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A dual-stack NodePort Service on the real kernel: ip6tables rules in the same sync as the
 * IPv4 ones; pods and the node reach its IPv6 ClusterIP, outside clients its IPv6 NodePort,
 * and IPv4 keeps working next to it.
 */
class DualStackIT {
    static final String CLUSTER_IP = "10.96.0.40";
    static final String CLUSTER_IP_V6 = "fd00:96::40";
    static final int NODE_PORT = 30084;

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(2).dualStack();

    @Test
    void ipv6ClusterIpAndNodePortNextToIpv4() {
        List<Manifests.Port> http = List.of(Manifests.HTTP);
        fx.publish("ds", new Manifests.Svc("ds").type("NodePort").clusterIps(CLUSTER_IP, CLUSTER_IP_V6)
                .port(Manifests.HTTP, NODE_PORT).yaml()
                + "---\n" + Manifests.slice("ds", "ds-v4", http, Manifests.ips("b1", "b2"))
                + "---\n" + Manifests.slice("ds", "ds-v6", http, "IPv6", List.of(
                        new Manifests.Ep(Topology.backendIpV6("b1"), ""), new Manifests.Ep(Topology.backendIpV6("b2"), ""))));
        fx.startProxy();
        Checks checks = fx.checks();
        Set<String> both = Set.of("b1", "b2");
        checks.awaitReachable(fx.pod(), CLUSTER_IP_V6, 80, both);

        checks.assertTcpReachesAll(fx.pod(), CLUSTER_IP_V6, 80, both);
        checks.assertTcpReachesAll(fx.node(), CLUSTER_IP_V6, 80, both);
        checks.assertTcpReachesAll(fx.ext(), Topology.NODE_EXT_IP_V6, NODE_PORT, both);
        checks.assertTcpReachesAll(fx.pod(), CLUSTER_IP, 80, both);
        checks.assertTcpReachesAll(fx.ext(), Topology.NODE_EXT_IP, NODE_PORT, both);
        assertTrue(Rules.kube(checks.save6()).stream().anyMatch(l -> l.contains("-d " + CLUSTER_IP_V6 + "/128")),
                () -> "no ip6tables rule for " + CLUSTER_IP_V6 + "\n" + checks.state());
    }
}
