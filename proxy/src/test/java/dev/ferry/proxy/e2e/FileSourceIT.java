package dev.ferry.proxy.e2e;

import dev.ferry.netfilter.KubeletChains;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy reading {@code --manifests} in a node namespace programs the real kernel: pods and the
 * node reach every endpoint of a ClusterIP over TCP and UDP, endpoint changes are followed, a
 * Service without endpoints is rejected, outside traffic is masqueraded, and nothing we do not own
 * is touched, by syncs or by {@code --cleanup}.
 */
class FileSourceIT {
    static final String WEB_IP = NodeFixture.WEB_IP;

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(3);

    private Topology topology;
    private Checks checks;

    @BeforeEach
    void names() {
        topology = fx.topology();
        checks = fx.checks();
    }

    @Test
    void podAndNodeReachEveryEndpointOverTcpAndUdp() {
        fx.web("b1", "b2");
        fx.startProxy();
        checks.awaitServed(WEB_IP, 80);
        for (NetNs client : List.of(topology.pod(), topology.node())) {
            checks.assertTcpReachesAll(client, WEB_IP, 80, Set.of("b1", "b2"));
            checks.assertUdpReachesAll(client, WEB_IP, 53, Set.of("b1", "b2"));
        }
    }

    @Test
    void endpointsAddedAndRemovedInTheFilesAreFollowed() {
        fx.web("b1", "b2");
        fx.startProxy();
        checks.awaitServed(WEB_IP, 80);
        checks.assertTcpReachesAll(topology.pod(), WEB_IP, 80, Set.of("b1", "b2"));

        fx.web("b1", "b2", "b3");
        checks.awaitTcpAnswer(topology.pod(), WEB_IP, 80, "b3");
        checks.assertTcpReachesAll(topology.pod(), WEB_IP, 80, Set.of("b1", "b2", "b3"));
        checks.assertUdpReachesAll(topology.pod(), WEB_IP, 53, Set.of("b1", "b2", "b3"));

        fx.web("b1", "b3");
        checks.awaitDnatTargets(Set.of(Checks.ipPort("b1", 8080), Checks.ipPort("b3", 8080)), Set.of(Checks.ipPort("b2", 8080)));
        // b2's server still runs: a stale rule would still reach it
        checks.assertTcpOnly(topology.pod(), WEB_IP, 80, Set.of("b1", "b3"), 30);
        checks.assertTcpOnly(topology.node(), WEB_IP, 80, Set.of("b1", "b3"), 30);
    }

    @Test
    void serviceWithoutEndpointsIsRejectedAtOnceAndServedAgainWhenOneReturns() {
        fx.web();
        fx.startProxy();
        Wait.until("a filter REJECT for " + WEB_IP + ":80", Checks.PROGRAMMED,
                () -> Rules.rejectsClusterIp(checks.save(), WEB_IP, 80), checks::state);
        checks.assertRefusedFast(topology.pod(), WEB_IP, 80);
        checks.assertRefusedFast(topology.node(), WEB_IP, 80);

        fx.web("b2");
        checks.awaitTcpAnswer(topology.pod(), WEB_IP, 80, "b2");
        assertTrue(!Rules.rejectsClusterIp(checks.save(), WEB_IP, 80), () -> "REJECT left behind:\n" + checks.state());

        fx.web();
        Wait.until("the REJECT back once the last endpoint is removed", Checks.PROGRAMMED,
                () -> Rules.rejectsClusterIp(checks.save(), WEB_IP, 80), checks::state);
        checks.assertRefusedFast(topology.pod(), WEB_IP, 80);
    }

    @Test
    void trafficFromOutsideTheClusterCidrIsMasqueraded() {
        fx.web("b1", "b2");
        fx.startProxy();
        checks.awaitServed(WEB_IP, 80);
        checks.assertMasqueradeOnlyFromOutside(WEB_IP, 80, Set.of("b1", "b2"));
    }

    @Test
    void foreignChainsAndRulesSurviveSyncsAndCleanup() {
        NetNs node = topology.node();
        node.check("iptables", "-t", "nat", "-N", "DOCKER");
        node.check("iptables", "-t", "nat", "-A", "DOCKER", "-i", "docker0", "-j", "RETURN");
        node.check("iptables", "-t", "nat", "-A", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER");
        node.check("iptables", "-t", "filter", "-A", "INPUT", "-s", "192.0.2.0/24", "-p", "tcp", "--dport", "22",
                "-m", "comment", "--comment", "admin: ssh from the bastion", "-j", "ACCEPT");
        List<String> before = Rules.foreign(node.iptablesSave());
        assertEquals(4, before.stream().filter(l -> l.contains("DOCKER") || l.contains("admin:")).count(),
                () -> "test setup: expected the DOCKER chain, its two rules and the admin rule in " + before);

        fx.web("b1");
        fx.startProxy();
        checks.awaitServed(WEB_IP, 80);
        assertEquals(before, Rules.foreign(checks.save()), () -> "foreign rules changed by the first sync\n" + checks.state());

        fx.web("b1", "b2");
        checks.awaitDnatTargets(Set.of(Checks.ipPort("b1", 8080), Checks.ipPort("b2", 8080)), Set.of());
        assertEquals(before, Rules.foreign(checks.save()), () -> "foreign rules changed by a later sync\n" + checks.state());
        fx.web();
        Wait.until("REJECT for " + WEB_IP + ":80", Checks.PROGRAMMED,
                () -> Rules.rejectsClusterIp(checks.save(), WEB_IP, 80), checks::state);
        assertEquals(before, Rules.foreign(checks.save()), () -> "foreign rules changed by a later sync\n" + checks.state());

        fx.proxy().kill();
        Proc.Result cleanup = ProxyProcess.run(node, List.of("--cleanup", "-v", "2"));
        assertEquals(0, cleanup.exit(), () -> "--cleanup failed: " + cleanup.describe());
        String after = node.iptablesSave();
        // what is left is the kubelet's KUBE-FIREWALL, which the iptables mode writes as upstream's does (and keeps)
        assertEquals(List.of("filter: :KUBE-FIREWALL - [0:0]", "filter: -A INPUT -j KUBE-FIREWALL",
                        "filter: -A OUTPUT -j KUBE-FIREWALL"),
                Rules.kube(after).stream().filter(l -> !l.startsWith("filter: -A KUBE-FIREWALL ")).toList(),
                () -> "--cleanup left KUBE-* lines behind:\n" + after);
        assertEquals(before, Rules.foreign(after), () -> "foreign rules changed by --cleanup:\n" + after);
    }

    /**
     * The kubelet's chains (its iptables hint, its canary, KUBE-FIREWALL with its jumps, and an older kubelet's
     * KUBE-MARK-DROP) survive, byte for byte, the start of each mode this kernel runs and --cleanup, as upstream
     * keeps them. (ipvs mode: IpvsModeIT, inside the user-mode-linux kernel.)
     */
    @Test
    void theKubeletsChainsSurviveEachModesStartAndCleanup() {
        NetNs node = topology.node();
        Proc.Result kubelet = Proc.run(Duration.ofSeconds(20), node.argv("iptables-restore", "--noflush"),
                KubeletChains.RULES);
        assertTrue(kubelet.ok(), kubelet::describe);
        List<String> before = KubeletChains.lines(node.iptablesSave());
        assertEquals(10, before.size(), before::toString);
        fx.web("b1");
        fx.publish("empty-service", Manifests.service("empty", "10.96.0.20", List.of(Manifests.HTTP)));

        for (String mode : List.of("iptables", "userspace", "iptables")) {
            Proc.Result once = ProxyProcess.run(node, fx.proxyArgs("--proxy-mode=" + mode, "--once"));
            assertEquals(0, once.exit(), () -> mode + " --once failed: " + once.describe());
            String save = node.iptablesSave();
            assertTrue(save.contains(mode.equals("userspace") ? ":KUBE-PORTALS-CONTAINER" : ":KUBE-SVC-"), save);
            assertEquals(before, KubeletChains.lines(save), () -> mode + " mode's start changed the kubelet's chains:\n" + save);
        }

        Proc.Result cleanup = ProxyProcess.run(node, List.of("--cleanup", "-v", "2"));
        assertEquals(0, cleanup.exit(), () -> "--cleanup failed: " + cleanup.describe());
        String after = node.iptablesSave();
        assertEquals(before, KubeletChains.lines(after), () -> "--cleanup changed the kubelet's chains:\n" + after);
        assertEquals(before.size(), Rules.kube(after).size(), () -> "--cleanup left more than the kubelet's:\n" + after);
    }
}
