package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A NodePort Service on the real kernel: reached from outside the cluster, from a pod (through
 * the node's address on the pod's link), from the node itself, and on 127.0.0.1 (localhost
 * NodePorts, on by default, and not with --iptables-localhost-nodeports=false); outside traffic
 * is masqueraded (the backend sees the node).
 */
class NodePortIT {
    static final String CLUSTER_IP = "10.96.0.20";
    static final int NODE_PORT = 30080;
    static final int PEER_NODE_PORT = 30090;
    static final Manifests.Port PEER = new Manifests.Port("peer", 9090, Topology.PEER_PORT, "TCP");

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(2);

    @Test
    void reachedFromOutsideFromAPodFromTheNodeAndOnLocalhost() {
        fx.publish("np", new Manifests.Svc("np").type("NodePort").clusterIps(CLUSTER_IP)
                .port(Manifests.HTTP, NODE_PORT).port(PEER, PEER_NODE_PORT).yaml()
                + "---\n" + Manifests.slice("np", "np-1", List.of(Manifests.HTTP, PEER), Manifests.ips("b1", "b2")));
        fx.startProxy();
        Checks checks = fx.checks();
        Set<String> both = Set.of("b1", "b2");
        checks.awaitReachable(fx.ext(), Topology.NODE_EXT_IP, NODE_PORT, both);

        checks.assertTcpReachesAll(fx.ext(), Topology.NODE_EXT_IP, NODE_PORT, both);
        checks.assertTcpReachesAll(fx.pod(), Topology.NODE_POD_LINK_IP, NODE_PORT, both);
        checks.assertTcpReachesAll(fx.node(), Topology.NODE_EXT_IP, NODE_PORT, both);
        checks.assertTcpReachesAll(fx.node(), "127.0.0.1", NODE_PORT, both);
        checks.assertTcpReachesAll(fx.pod(), CLUSTER_IP, 80, both);

        Proc.Result peer = Clients.tcp(fx.ext(), Topology.NODE_EXT_IP, PEER_NODE_PORT);
        assertEquals(Topology.NODE_BRIDGE_IP, peer.out().strip(),
                () -> "outside traffic to a NodePort (cluster policy) should reach the backend from the node's address: "
                        + peer.describe() + "\n" + checks.state());
    }

    @Test
    void notOnLocalhostWhenLocalhostNodePortsAreOff() {
        fx.publish("np", new Manifests.Svc("np").type("NodePort").clusterIps(CLUSTER_IP).port(Manifests.HTTP, NODE_PORT).yaml()
                + "---\n" + Manifests.slice("np", "np-1", List.of(Manifests.HTTP), Manifests.ips("b1")));
        fx.startProxy("--iptables-localhost-nodeports=false");
        Checks checks = fx.checks();
        checks.awaitReachable(fx.node(), Topology.NODE_EXT_IP, NODE_PORT, Set.of("b1"));
        Proc.Result local = Clients.tcp(fx.node(), "127.0.0.1", NODE_PORT);
        assertFalse(local.ok() && !local.out().isBlank(), () -> "127.0.0.1:" + NODE_PORT
                + " answered with localhost NodePorts off: " + local.describe() + "\n" + checks.state());
    }
}
