package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --detect-local-mode on the real kernel: which clients of a ClusterIP are masqueraded, seen by
 * the endpoint itself (its server answers with the address the connection came from). Each case
 * is chosen so that the default, ClusterCIDR (the harness passes --cluster-cidr 10.244.0.0/16),
 * would decide the other way: a client outside the cluster CIDR that the mode calls local, and a
 * client inside it that the mode does not.
 *
 * <pre>
 *   ext 198.51.100.2 ──vext── node ──vpod── pod 10.244.1.10 (also an endpoint here)
 *                              └─ fybr0 ── b1 10.244.0.21, b2 10.244.0.22
 * </pre>
 */
class LocalTrafficDetectionIT {
    static final String TO_B1 = "10.96.0.40";
    static final String TO_POD = "10.96.0.41";
    static final Manifests.Port PEER = new Manifests.Port("peer", 9090, Topology.PEER_PORT, "TCP");

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(2);

    /** Service to-b1 (endpoint b1) and Service to-pod (endpoint the client pod, which serves its peer port too). */
    static void services(NodeFixture fx) {
        fx.publish("to-b1", Manifests.service("to-b1", TO_B1, List.of(PEER)) + "---\n"
                + Manifests.slice("to-b1", "to-b1-1", List.of(PEER), Manifests.ips("b1")));
        fx.publish("to-pod", Manifests.service("to-pod", TO_POD, List.of(PEER)) + "---\n"
                + Manifests.slice("to-pod", "to-pod-1", List.of(PEER), List.of(Topology.POD_IP)));
        fx.topology().track(fx.pod().start(List.of("socat", "TCP4-LISTEN:" + Topology.PEER_PORT + ",fork,reuseaddr",
                "EXEC:printenv SOCAT_PEERADDR")));
        Wait.until("the pod serving its peer port", Duration.ofSeconds(10),
                () -> Topology.NODE_POD_LINK_IP.equals(Clients.tcp(fx.node(), Topology.POD_IP, Topology.PEER_PORT).out().strip()),
                () -> Clients.tcp(fx.node(), Topology.POD_IP, Topology.PEER_PORT).describe());
    }

    /** What the endpoint behind {@code clusterIp} sees as the client's address, from {@code client}. */
    private static String peerSeen(NodeFixture fx, NetNs client, String clusterIp) {
        Proc.Result r = Clients.tcp(client, clusterIp, PEER.port());
        assertTrue(r.ok(), () -> "TCP from " + client + " to " + clusterIp + ": " + r.describe() + "\n" + fx.checks().state());
        return r.out().strip();
    }

    static void assertPeer(NodeFixture fx, String expected, NetNs client, String clusterIp, String why) {
        String seen = peerSeen(fx, client, clusterIp);
        assertEquals(expected, seen, () -> why + ": the endpoint saw " + seen + "\n" + fx.checks().state());
    }

    @Test
    void interfaceNamePrefixCallsLocalWhatArrivesOnAnInterfaceNamedSoWhateverItsSource() {
        services(fx);
        fx.startProxy("--detect-local-mode=InterfaceNamePrefix", "--pod-interface-name-prefix=vex");
        fx.checks().awaitServed(TO_B1, PEER.port());
        assertMasqueradesUnless(fx, "! -i vex+");

        assertPeer(fx, Topology.EXT_IP, fx.ext(), TO_B1, "from vext (prefix vex), outside the cluster CIDR: not masqueraded");
        assertPeer(fx, Topology.NODE_BRIDGE_IP, fx.pod(), TO_B1, "from vpod, inside the cluster CIDR: masqueraded");
    }

    @Test
    void bridgeInterfaceCallsLocalWhatArrivesOnTheBridge() {
        services(fx);
        fx.startProxy("--detect-local-mode=BridgeInterface", "--pod-bridge-interface=fybr0");
        fx.checks().awaitServed(TO_POD, PEER.port());
        assertMasqueradesUnless(fx, "! -i fybr0");

        assertPeer(fx, Topology.backendIp("b2"), fx.topology().backend("b2"), TO_POD, "b2 from the bridge: not masqueraded");
        assertPeer(fx, Topology.NODE_BRIDGE_IP, fx.pod(), TO_B1, "the pod from vpod, inside the cluster CIDR: masqueraded");
        assertPeer(fx, Topology.NODE_POD_LINK_IP, fx.ext(), TO_POD, "outside, from vext: masqueraded");
    }

    @Test
    void nodeCidrWaitsForThePodCidrsUsesThemAndExitsWhenTheyChange() {
        nodeCidrLifeCycle(fx);
    }

    /** NodeCIDR from start to exit, with the Node published to {@code fx}'s source (files or the API server). */
    static void nodeCidrLifeCycle(NodeFixture fx) {
        services(fx);
        Proc proxy = fx.startProxy("--detect-local-mode=NodeCIDR");
        Wait.until("the proxy waiting for the Node's podCIDRs", Checks.PROGRAMMED,
                () -> proxy.err().contains("waiting for node " + ProxyProcess.NODE_NAME + " to be allocated podCIDRs"),
                fx.checks()::state);
        // it waits before its first sync: nothing is programmed yet (as upstream, which creates no proxier)
        assertFalse(Rules.servesClusterIp(fx.checks().save(), TO_B1, PEER.port()), fx.checks()::state);

        fx.publish("node", node("10.244.0.0/24")); // the backends' bridge network, not the pod's link
        fx.checks().awaitServed(TO_B1, PEER.port());
        assertMasqueradesUnless(fx, "! -s 10.244.0.0/24");
        assertPeer(fx, Topology.backendIp("b2"), fx.topology().backend("b2"), TO_POD, "b2, in the node's podCIDR: not masqueraded");
        assertPeer(fx, Topology.NODE_BRIDGE_IP, fx.pod(), TO_B1, "the pod, in the cluster CIDR but not the node's: masqueraded");

        fx.publish("node", node("10.244.5.0/24"));
        assertTrue(proxy.waitFor(Checks.PROGRAMMED), () -> "still running after the podCIDRs changed\n" + fx.checks().state());
        assertEquals(1, proxy.process().exitValue(), fx.checks()::state);
        assertTrue(proxy.err().contains("podCIDRs changed from [10.244.0.0/24] to [10.244.5.0/24]"), fx.checks()::state);
        assertTrue(Rules.servesClusterIp(fx.checks().save(), TO_B1, PEER.port()), "the rules stay in place");
    }

    /** Both Services' chains masquerade what {@code notLocal} matches (iptables-save puts the match first). */
    static void assertMasqueradesUnless(NodeFixture fx, String notLocal) {
        List<String> rules = Rules.kube(fx.checks().save()).stream()
                .filter(l -> l.startsWith("nat: -A KUBE-SVC-") && l.endsWith("-j KUBE-MARK-MASQ")).toList();
        assertEquals(2, rules.size(), fx.checks()::state);
        assertTrue(rules.stream().allMatch(l -> l.contains(" " + notLocal + " ")), () -> notLocal + ": " + rules);
    }

    private static String node(String podCidr) {
        return Manifests.node(ProxyProcess.NODE_NAME) + "spec:\n  podCIDRs: [" + podCidr + "]\n";
    }
}
