package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * externalTrafficPolicy Local on the real kernel: outside traffic to the NodePort and the
 * LoadBalancer IP reaches only this node's endpoints, with the client's own address (no
 * masquerade), while pods and the node itself still use every endpoint; without local endpoints
 * outside traffic is dropped. The health check node port answers 200 with the local endpoint count
 * while there are local endpoints and 503 when there are none, with upstream's header and body.
 */
class LocalTrafficPolicyIT {
    static final String CLUSTER_IP = "10.96.0.30";
    static final String LB_IP = "192.0.2.101";
    static final int NODE_PORT = 30082;
    static final int PEER_NODE_PORT = 30092;
    static final int CLUSTER_POLICY_PEER_NODE_PORT = 30093;
    static final int HEALTH_CHECK_PORT = 32000;
    static final String OTHER_NODE = "fy-other-node";
    static final Manifests.Port PEER = new Manifests.Port("peer", 9090, Topology.PEER_PORT, "TCP");
    static final List<Manifests.Port> PORTS = List.of(Manifests.HTTP, PEER);

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(2);

    /** Endpoints b1 and b2 of Service "local", each on this node or on another one. */
    private void endpoints(boolean b1Here, boolean b2Here) {
        fx.publish("local-slice", Manifests.slice("local", "local-1", PORTS, "IPv4", List.of(
                new Manifests.Ep(Topology.backendIp("b1"), b1Here ? ProxyProcess.NODE_NAME : OTHER_NODE),
                new Manifests.Ep(Topology.backendIp("b2"), b2Here ? ProxyProcess.NODE_NAME : OTHER_NODE))));
    }

    @Test
    void onlyLocalEndpointsClientAddressKeptAndTheHealthCheckNodePortFollows() {
        fx.publish("local", new Manifests.Svc("local").type("LoadBalancer").clusterIps(CLUSTER_IP)
                .port(Manifests.HTTP, NODE_PORT).port(PEER, PEER_NODE_PORT).loadBalancerIngress(LB_IP)
                .externalTrafficPolicyLocal(HEALTH_CHECK_PORT).yaml());
        endpoints(true, false);
        // the same backends behind a cluster-policy NodePort, to show what masquerading looks like
        fx.publish("cluster", new Manifests.Svc("cluster").type("NodePort").clusterIps("10.96.0.31")
                .port(PEER, CLUSTER_POLICY_PEER_NODE_PORT).yaml()
                + "---\n" + Manifests.slice("cluster", "cluster-1", List.of(PEER), Manifests.ips("b1")));
        fx.startProxy();
        Checks checks = fx.checks();
        NetNs ext = fx.ext();
        checks.awaitReachable(ext, Topology.NODE_EXT_IP, NODE_PORT, Set.of("b1"));

        checks.assertTcpOnly(ext, Topology.NODE_EXT_IP, NODE_PORT, Set.of("b1"), 20);
        checks.assertTcpOnly(ext, LB_IP, 80, Set.of("b1"), 10);
        assertPeer(Topology.EXT_IP, Clients.tcp(ext, Topology.NODE_EXT_IP, PEER_NODE_PORT), "NodePort, Local policy", checks);
        assertPeer(Topology.EXT_IP, Clients.tcp(ext, LB_IP, 9090), "LB IP, Local policy", checks);
        assertPeer(Topology.NODE_BRIDGE_IP, Clients.tcp(ext, Topology.NODE_EXT_IP, CLUSTER_POLICY_PEER_NODE_PORT),
                "NodePort, Cluster policy (masqueraded)", checks);
        // pods (ClusterIP) and the node itself (short-circuited to the cluster chain) use every endpoint
        checks.assertTcpReachesAll(fx.pod(), CLUSTER_IP, 80, Set.of("b1", "b2"));
        checks.assertTcpReachesAll(fx.node(), Topology.NODE_EXT_IP, NODE_PORT, Set.of("b1", "b2"));

        HealthAnswer ok = awaitHealth(200, 1, checks);
        assertEquals("application/json", ok.header("Content-Type"), ok::raw);
        assertEquals("{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"local\"\n\t},\n"
                + "\t\"localEndpoints\": 1,\n\t\"serviceProxyHealthy\": true\n}", ok.body(), ok::raw);

        endpoints(false, false);
        HealthAnswer none = awaitHealth(503, 0, checks);
        assertTrue(none.body().contains("\"localEndpoints\": 0,"), none::raw);
        checks.assertDropped(ext, Topology.EXT_IP, Topology.NODE_EXT_IP, NODE_PORT);
        checks.assertTcpReachesAll(fx.pod(), CLUSTER_IP, 80, Set.of("b1", "b2"));

        endpoints(true, true);
        awaitHealth(200, 2, checks);
        checks.assertTcpReachesAll(ext, Topology.NODE_EXT_IP, NODE_PORT, Set.of("b1", "b2"));
    }

    @Test
    void theHealthCheckNodePortListensOnlyOnTheNodePortAddresses() {
        fx.publish("local", new Manifests.Svc("local").type("LoadBalancer").clusterIps(CLUSTER_IP)
                .port(Manifests.HTTP, NODE_PORT).loadBalancerIngress(LB_IP).externalTrafficPolicyLocal(HEALTH_CHECK_PORT).yaml());
        endpoints(true, false);
        fx.startProxy("--nodeport-addresses=198.51.100.0/24");
        Checks checks = fx.checks();
        awaitHealth(200, 1, checks);
        Proc.Result other = Clients.httpGet(fx.pod(), Topology.NODE_POD_LINK_IP, HEALTH_CHECK_PORT, "/");
        assertTrue(!other.ok() && other.err().contains("Connection refused"), () -> "the health check node port answered on "
                + Topology.NODE_POD_LINK_IP + ", outside --nodeport-addresses: " + other.describe() + "\n" + checks.state());
    }

    private static void assertPeer(String expected, Proc.Result r, String what, Checks checks) {
        assertEquals(expected, r.out().strip(), () -> what + ": the backend saw the connection come from "
                + r.out().strip() + ", expected " + expected + "; " + r.describe() + "\n" + checks.state());
    }

    /** An HTTP answer split into status, headers and body. */
    record HealthAnswer(int status, List<String> headers, String body, String raw) {
        static HealthAnswer parse(Proc.Result r) {
            String raw = r.out();
            int split = raw.indexOf("\n\n");
            if (!raw.startsWith("HTTP/1.1 ") || split < 0) {
                return new HealthAnswer(-1, List.of(), "", r.describe());
            }
            List<String> head = raw.substring(0, split).lines().toList();
            return new HealthAnswer(Integer.parseInt(head.get(0).split(" ")[1]), head.subList(1, head.size()),
                    raw.substring(split + 2), raw);
        }

        String header(String name) {
            return headers.stream().filter(h -> h.toLowerCase().startsWith(name.toLowerCase() + ":"))
                    .map(h -> h.substring(h.indexOf(':') + 1).strip()).findFirst().orElse(null);
        }
    }

    /** Asks the health check node port from outside until it answers {@code status} with weight {@code count}. */
    private HealthAnswer awaitHealth(int status, int count, Checks checks) {
        return Wait.until("the health check node port answering " + status + " with weight " + count, Checks.PROGRAMMED,
                () -> HealthAnswer.parse(Clients.httpGet(fx.ext(), Topology.NODE_EXT_IP, HEALTH_CHECK_PORT, "/")),
                a -> a.status() == status && String.valueOf(count).equals(a.header("X-Load-Balancing-Endpoint-Weight")),
                a -> a.raw() + "\n" + checks.state());
    }
}
