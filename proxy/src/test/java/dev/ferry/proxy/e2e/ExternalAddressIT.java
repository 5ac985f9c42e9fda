package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * External IPs and a LoadBalancer IP with loadBalancerSourceRanges on the real kernel: the
 * external IP answers any client; the LB IP answers the client inside the range and drops
 * (silently, in the filter table's KUBE-PROXY-FIREWALL) the one outside it, while that client
 * still reaches the NodePort (source ranges do not apply to NodePorts).
 */
class ExternalAddressIT {
    static final String EXTERNAL_IP = "192.0.2.50";
    static final String LB_IP = "192.0.2.100";
    static final int LB_NODE_PORT = 30081;
    static final Pattern COUNTERS = Pattern.compile("^\\[(\\d+):\\d+] ");

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(2);

    @Test
    void externalIpServesEveryoneAndTheLoadBalancerIpOnlyItsSourceRanges() {
        List<Manifests.Port> http = List.of(Manifests.HTTP);
        fx.publish("ext", new Manifests.Svc("ext").clusterIps("10.96.0.21").port(Manifests.HTTP).externalIps(EXTERNAL_IP).yaml()
                + "---\n" + Manifests.slice("ext", "ext-1", http, Manifests.ips("b1", "b2")));
        fx.publish("lb", new Manifests.Svc("lb").type("LoadBalancer").clusterIps("10.96.0.22")
                .port(Manifests.HTTP, LB_NODE_PORT).loadBalancerIngress(LB_IP).sourceRanges(Topology.EXT_IP + "/32").yaml()
                + "---\n" + Manifests.slice("lb", "lb-1", http, Manifests.ips("b1", "b2")));
        // a real node has a route for an address it does not own; without one, the packet a
        // firewall must drop would die in routing first
        fx.node().check("ip", "route", "add", "192.0.2.0/24", "dev", "fybr0");
        fx.startProxy();
        Checks checks = fx.checks();
        Set<String> both = Set.of("b1", "b2");

        checks.awaitReachable(fx.ext(), EXTERNAL_IP, 80, both);
        checks.assertTcpReachesAll(fx.ext(), EXTERNAL_IP, 80, both);
        checks.assertTcpReachesAll(fx.pod(), EXTERNAL_IP, 80, both);
        assertAnswered(Clients.tcpFrom(fx.ext(), Topology.EXT_IP_2, EXTERNAL_IP, 80), both, checks);

        checks.awaitReachable(fx.ext(), LB_IP, 80, both); // from 198.51.100.2, inside the range
        checks.assertTcpReachesAll(fx.ext(), LB_IP, 80, both);
        long droppedBefore = firewallDrops();
        checks.assertDropped(fx.ext(), Topology.EXT_IP_2, LB_IP, 80);
        long droppedAfter = firewallDrops();
        assertTrue(droppedAfter > droppedBefore, () -> "the denied client's packets were not counted by the"
                + " KUBE-PROXY-FIREWALL drop for " + LB_IP + " (" + droppedBefore + " -> " + droppedAfter + ")\n" + checks.state());
        assertAnswered(Clients.tcpFrom(fx.ext(), Topology.EXT_IP_2, Topology.NODE_EXT_IP, LB_NODE_PORT), both, checks);
    }

    private static void assertAnswered(Proc.Result r, Set<String> names, Checks checks) {
        assertTrue(names.contains(r.out().strip()), () -> "expected an answer from one of " + names + ": "
                + r.describe() + "\n" + checks.state());
    }

    /** Packets counted by the filter-table DROP rules for the LB IP in KUBE-PROXY-FIREWALL. */
    private long firewallDrops() {
        long total = 0;
        for (String line : fx.node().check("iptables-save", "-c", "-t", "filter").out().split("\n")) {
            if (line.contains("-A KUBE-PROXY-FIREWALL ") && line.contains("-d " + LB_IP + "/32") && line.contains("-j DROP")) {
                Matcher m = COUNTERS.matcher(line);
                if (m.find()) {
                    total += Long.parseLong(m.group(1));
                }
            }
        }
        return total;
    }
}
