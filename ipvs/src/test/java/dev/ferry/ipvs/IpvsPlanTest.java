package dev.ferry.ipvs;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static dev.ferry.ipvs.Snapshots.ip;
import static dev.ferry.ipvs.Snapshots.snapshot;
import static dev.ferry.ipvs.Snapshots.tcp;
import static dev.ferry.ipvs.Snapshots.udp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpvsPlanTest {

    private static final IpvsSettings NODE_PORTS = new IpvsSettings("", List.of(ip("192.168.50.1"), ip("10.0.0.7"),
            ip("fd00::7")), Set.of());

    /** One line per virtual server: "TCP 10.96.0.10:80 rr [persistent N] [flags 0xN] -> rs:port ...". */
    static List<String> render(IpvsPlan plan) {
        return plan.services().stream().map(IpvsPlanTest::render).toList();
    }

    static String render(PlannedService p) {
        VirtualServer vs = p.virtualServer();
        StringBuilder s = new StringBuilder(ServiceKey.of(vs) + " " + vs.scheduler());
        if (vs.persistenceTimeoutSeconds() > 0) {
            s.append(" persistent ").append(vs.persistenceTimeoutSeconds());
        }
        if (vs.flags() != 0) {
            s.append(" flags 0x").append(Integer.toHexString(vs.flags()));
        }
        s.append(" ->");
        for (RealServer rs : p.realServers()) {
            s.append(' ').append(IpAddresses.hostPort(rs.address(), rs.port()));
            if (rs.weight() != 1 || rs.forwardMethod() != RealServer.ForwardMethod.MASQUERADE) {
                s.append(" BAD ").append(rs);
            }
        }
        return s.toString();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("ClusterIP: one virtual server, every endpoint, address bound",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).endpoint("10.244.1.5", 8080).endpoint("10.244.2.6", 8080)),
                        IpvsSettings.defaults(), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr -> 10.244.1.5:8080 10.244.2.6:8080"), List.of("10.96.0.10")),
                Arguments.of("no endpoints: the virtual server still exists, empty",
                        snapshot(tcp("ns/web", "10.96.0.10", 80)), IpvsSettings.defaults(), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr ->"), List.of("10.96.0.10")),
                Arguments.of("NodePort: one virtual server per node address of the family, none bound",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).nodePort(30080).endpoint("10.244.1.5", 8080)),
                        NODE_PORTS, IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr -> 10.244.1.5:8080",
                                "TCP 192.168.50.1:30080 rr -> 10.244.1.5:8080",
                                "TCP 10.0.0.7:30080 rr -> 10.244.1.5:8080"), List.of("10.96.0.10")),
                Arguments.of("NodePort without node addresses: skipped, as upstream does with no node IPs",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).nodePort(30080)), IpvsSettings.defaults(),
                        IpFamily.IPV4, List.of("TCP 10.96.0.10:80 rr ->"), List.of("10.96.0.10")),
                Arguments.of("external IP: its own virtual server and bound, unless on another interface",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).externalIP("203.0.113.5").externalIP("10.0.0.7")
                                .endpoint("10.244.1.5", 8080)),
                        new IpvsSettings("", List.of(), Set.of(ip("10.0.0.7"))), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr -> 10.244.1.5:8080", "TCP 203.0.113.5:80 rr -> 10.244.1.5:8080",
                                "TCP 10.0.0.7:80 rr -> 10.244.1.5:8080"), List.of("10.96.0.10", "203.0.113.5")),
                Arguments.of("LoadBalancer IP: its own virtual server, bound",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).loadBalancerIP("198.51.100.9")
                                .endpoint("10.244.1.5", 8080)), IpvsSettings.defaults(), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr -> 10.244.1.5:8080", "TCP 198.51.100.9:80 rr -> 10.244.1.5:8080"),
                        List.of("10.96.0.10", "198.51.100.9")),
                Arguments.of("external Local: external, LB and NodePort servers get only local endpoints, ClusterIP all",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).nodePort(30080).externalIP("203.0.113.5")
                                .loadBalancerIP("198.51.100.9").externalLocal()
                                .endpoint("10.244.2.6", 8080).localEndpoint("10.244.1.5", 8080)),
                        new IpvsSettings("", List.of(ip("192.168.50.1")), Set.of()), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr -> 10.244.2.6:8080 10.244.1.5:8080",
                                "TCP 203.0.113.5:80 rr -> 10.244.1.5:8080", "TCP 198.51.100.9:80 rr -> 10.244.1.5:8080",
                                "TCP 192.168.50.1:30080 rr -> 10.244.1.5:8080"),
                        List.of("10.96.0.10", "203.0.113.5", "198.51.100.9")),
                Arguments.of("external Local without local endpoints: upstream (#97081) falls back to the cluster's",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).nodePort(30080).externalLocal()
                                .endpoint("10.244.2.6", 8080)),
                        new IpvsSettings("", List.of(ip("192.168.50.1")), Set.of()), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr -> 10.244.2.6:8080", "TCP 192.168.50.1:30080 rr -> 10.244.2.6:8080"),
                        List.of("10.96.0.10")),
                Arguments.of("internal Local: the ClusterIP server gets only local endpoints",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).internalLocal()
                                .endpoint("10.244.2.6", 8080).localEndpoint("10.244.1.5", 8080)),
                        IpvsSettings.defaults(), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr -> 10.244.1.5:8080"), List.of("10.96.0.10")),
                // upstream's syncEndpoint falls back to the cluster's endpoints, but CategorizeEndpoints leaves
                // those empty when no policy of the service uses them, so nothing is there to fall back to
                Arguments.of("internal Local without local endpoints, not externally reachable: no real server",
                        snapshot(tcp("ns/web", "10.96.0.10", 80).internalLocal().endpoint("10.244.2.6", 8080)),
                        IpvsSettings.defaults(), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 rr ->"), List.of("10.96.0.10")),
                Arguments.of("ClientIP affinity: persistent for the affinity timeout on every virtual server",
                        snapshot(udp("ns/dns", "10.96.0.10", 53).affinity(10800).externalIP("203.0.113.5")
                                .endpoint("10.244.1.5", 5353)), IpvsSettings.defaults(), IpFamily.IPV4,
                        List.of("UDP 10.96.0.10:53 rr persistent 10800 -> 10.244.1.5:5353",
                                "UDP 203.0.113.5:53 rr persistent 10800 -> 10.244.1.5:5353"),
                        List.of("10.96.0.10", "203.0.113.5")),
                Arguments.of("scheduler from settings; mh sets the source-hash flag 0x10 as upstream",
                        snapshot(tcp("ns/a", "10.96.0.10", 80), tcp("ns/b", "10.96.0.11", 80)),
                        new IpvsSettings("mh", List.of(), Set.of()), IpFamily.IPV4,
                        List.of("TCP 10.96.0.10:80 mh flags 0x10 ->", "TCP 10.96.0.11:80 mh flags 0x10 ->"),
                        List.of("10.96.0.10", "10.96.0.11")),
                Arguments.of("dual stack, IPv6 plan: only IPv6 addresses and endpoints",
                        snapshot(tcp("ns/web", "10.96.0.10,fd00::10", 80).nodePort(30080).externalIP("2001:db8::5")
                                .externalIP("203.0.113.5").endpoint("10.244.1.5", 8080).endpoint("fd00:1::5", 8080)),
                        NODE_PORTS, IpFamily.IPV6,
                        List.of("TCP [fd00::10]:80 rr -> [fd00:1::5]:8080", "TCP [2001:db8::5]:80 rr -> [fd00:1::5]:8080",
                                "TCP [fd00::7]:30080 rr -> [fd00:1::5]:8080"), List.of("fd00::10", "2001:db8::5")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void plansUpstreamsVirtualServers(String name, ProxySnapshot snapshot, IpvsSettings settings, IpFamily family,
                                      List<String> expected, List<String> bound) {
        IpvsPlan plan = IpvsPlan.build(snapshot, family, settings);
        assertEquals(expected, render(plan));
        assertEquals(bound.stream().map(Snapshots::ip).toList(), List.copyOf(plan.bindAddresses()));
        assertEquals(List.of(), plan.problems());
        for (PlannedService p : plan.services()) {
            VirtualServer vs = p.virtualServer();
            assertEquals(family == IpFamily.IPV4 ? 32 : 128, vs.netmask(), vs::toString);
        }
    }

    @Test
    void twoServicePortsClaimingOneVirtualServerKeepTheFirstAndSayWhy() {
        IpvsPlan plan = IpvsPlan.build(snapshot(tcp("ns/a", "10.96.0.10", 80).externalIP("203.0.113.5"),
                tcp("ns/b", "10.96.0.11", 80).externalIP("203.0.113.5")), IpFamily.IPV4, IpvsSettings.defaults());
        assertEquals(List.of("TCP 10.96.0.10:80 rr ->", "TCP 203.0.113.5:80 rr ->", "TCP 10.96.0.11:80 rr ->"),
                render(plan));
        assertEquals(List.of("virtual server TCP 203.0.113.5:80 of ns/b:p is already served for ns/a:p; skipped"),
                plan.problems());
        assertEquals("ns/a:p", plan.services().get(1).servicePort().toString());
    }

    @Test
    void anEndpointListedTwiceIsOneRealServer() {
        IpvsPlan plan = IpvsPlan.build(snapshot(tcp("ns/web", "10.96.0.10", 80).endpoint("10.244.1.5", 8080)
                .localEndpoint("10.244.1.5", 8080)), IpFamily.IPV4, IpvsSettings.defaults());
        assertEquals(List.of("TCP 10.96.0.10:80 rr -> 10.244.1.5:8080"), render(plan));
    }

    @Test
    void settingsCheckTheSchedulerOnce() {
        assertEquals("rr", IpvsSettings.defaults().scheduler());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new IpvsSettings("a-very-long-scheduler", List.of(), Set.of()));
        assertTrue(e.getMessage().contains("a-very-long-scheduler"), e::getMessage);
    }
}
