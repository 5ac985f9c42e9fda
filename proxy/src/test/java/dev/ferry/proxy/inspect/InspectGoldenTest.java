package dev.ferry.proxy.inspect;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;
import dev.ferry.nativeio.ctnetlink.ConntrackTuple;
import dev.ferry.proxy.modes.ProxyModes;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands' output on a fixed cluster ({@link Cluster}) and the rules our backend writes for
 * it, compared with golden text. On a mismatch the actual output is also written to
 * target/inspect-golden/NAME.txt, to review and paste.
 */
class InspectGoldenTest {

    record Run(int code, String out, String err) {
    }

    static Run run(FakeNode node, ProxySnapshot snapshot, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = InspectCommands.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new InspectCommands.Env() {
                    @Override
                    public NodeState node() {
                        return node;
                    }

                    @Override
                    public ProxyModes modes() {
                        return node.modes();
                    }

                    @Override
                    public ProxySnapshot load(ServiceCommands.SourceOptions source) {
                        return snapshot;
                    }
                });
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertGolden(String name, String expected, String actual) {
        if (!expected.equals(actual)) {
            try {
                Path dir = Path.of("target", "inspect-golden");
                Files.createDirectories(dir);
                Files.writeString(dir.resolve(name + ".txt"), actual);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        assertEquals(expected, actual, name);
    }

    private final ProxySnapshot snapshot = Cluster.snapshot();
    private final FakeNode node = Cluster.node(snapshot);

    @Test
    void services() {
        Run r = run(node, snapshot, "inspect", "services", "--proxy-mode=iptables");
        assertEquals(0, r.code(), r.err());
        assertGolden("services", SERVICES, r.out());
    }

    @Test
    void serviceWithEveryEndpointReason() {
        Run r = run(node, snapshot, "inspect", "service", "default/web", "--proxy-mode=iptables");
        assertEquals(0, r.code(), r.err());
        assertGolden("service-web", SERVICE_WEB, r.out());
    }

    @Test
    void localAndZonedServices() {
        Run local = run(node, snapshot, "inspect", "service", "local", "--proxy-mode=iptables");
        assertGolden("service-local-endpoints", SERVICE_LOCAL_ENDPOINTS, endpointsPart(local.out()));
        Run zoned = run(node, snapshot, "inspect", "service", "default/zoned", "--proxy-mode=iptables");
        assertGolden("service-zoned-endpoints", SERVICE_ZONED_ENDPOINTS, endpointsPart(zoned.out()));
    }

    @Test
    void traceFromAPod() {
        node.routes.put(IpAddresses.parse("10.244.1.10"), "vpod");
        Run r = run(node, snapshot, "trace", "--src", "10.244.1.10", "--dst", "10.96.0.10", "--port", "80");
        assertEquals(0, r.code(), r.err());
        assertGolden("trace-pod", TRACE_POD, r.out());
    }

    @Test
    void traceFromTheNodeIsMasqueraded() {
        Run r = run(node, snapshot, "trace", "--src", Cluster.NODE_IP, "--dst", "10.96.0.10", "--port", "80");
        assertEquals(0, r.code(), r.err());
        assertGolden("trace-node", TRACE_NODE, r.out());
    }

    @Test
    void traceToAServiceWithoutEndpointsIsRejected() {
        Run r = run(node, snapshot, "trace", "--src", "10.244.1.10", "--dst", "10.96.0.40", "--port", "80",
                "--in-iface", "vpod");
        assertEquals(0, r.code(), r.err());
        assertGolden("trace-reject", TRACE_REJECT, r.out());
    }

    @Test
    void conntrackMarksFlowsToGoneEndpointsStale() {
        node.flows.add(flow("10.244.1.10", 40001, "10.96.0.10", 80, "10.244.0.21", 8080, true));
        node.flows.add(flow("10.244.1.10", 40002, "10.96.0.10", 80, "10.244.0.23", 8080, false));
        node.flows.add(flow("10.244.1.10", 40003, "10.96.0.20", 80, "10.244.0.31", 80, true)); // another Service
        Run r = run(node, snapshot, "inspect", "conntrack", "default/web");
        assertEquals(0, r.code(), r.err());
        assertGolden("conntrack", CONNTRACK, r.out());
    }

    @Test
    void userspacePortalsRedirectToTheProxy() {
        node.saves.put(dev.ferry.core.IpFamily.IPV4, """
                *nat
                :PREROUTING ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :KUBE-PORTALS-CONTAINER - [0:0]
                :KUBE-PORTALS-HOST - [0:0]
                -A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER
                -A OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-HOST
                -A KUBE-PORTALS-CONTAINER -d 10.96.0.10/32 -p tcp -m comment --comment default/web:http -m tcp --dport 80 -j REDIRECT --to-ports 36001
                -A KUBE-PORTALS-HOST -d 10.96.0.10/32 -p tcp -m comment --comment default/web:http -m tcp --dport 80 -j DNAT --to-destination 192.168.0.10:36001
                COMMIT
                """);
        Run r = run(node, snapshot, "trace", "--src", "10.244.1.10", "--dst", "10.96.0.10", "--port", "80");
        assertEquals(0, r.code(), r.err());
        assertGolden("trace-userspace", """
                mode userspace (nat chain KUBE-PORTALS-CONTAINER exists)
                trace tcp 10.244.1.10 -> 10.96.0.10:80: from another host (nat PREROUTING), in-interface unknown

                path:
                  nat PREROUTING              -A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER
                  nat KUBE-PORTALS-CONTAINER  -A KUBE-PORTALS-CONTAINER -d 10.96.0.10/32 -p tcp -m comment --comment default/web:http -m tcp --dport 80 -j REDIRECT --to-ports 36001

                endpoints reachable: none
                other outcomes:
                  REDIRECT to port 36001 on this node (userspace mode: the proxy accepts it there and connects to an endpoint, round robin)  100%
                """, r.out());
        Run portals = run(node, snapshot, "inspect", "services");
        assertEquals(0, portals.code(), portals.err());
        assertTrue(portals.out().contains("default/web:http    TCP    ClusterIP  10.96.0.10:80"), portals.out());
        assertTrue(portals.out().lines().anyMatch(l -> l.startsWith("default/web:http ") && l.endsWith("yes (2 portal rules)")),
                portals.out());
        assertTrue(portals.out().lines().anyMatch(l -> l.startsWith("default/local:http ") && l.endsWith("NO (no KUBE-PORTALS-* rule)")),
                portals.out());
    }

    @Test
    void unknownServiceFails() {
        Run r = run(node, snapshot, "inspect", "service", "default/nope", "--proxy-mode=iptables");
        assertEquals(1, r.code());
        assertEquals("error: Service default/nope is not served on node node-a (no such Service, or it has no ports,"
                + " or it is headless)\n", r.err());
    }

    @Test
    void badUsage() {
        assertEquals(2, run(node, snapshot, "trace", "--src", "10.0.0.1").code());
        assertEquals(2, run(node, snapshot, "trace", "--src", "10.0.0.1", "--dst", "fd00::1", "--port", "80").code());
        assertEquals(2, run(node, snapshot, "inspect", "services", "--bogus").code());
        assertEquals(2, run(node, snapshot, "inspect").code());
    }

    @Test
    void aMistypedCommandOrFlagGetsTheNearestSuggested() {
        Run command = run(node, snapshot, "inspect", "servces");
        assertEquals(2, command.code());
        assertTrue(command.err().contains("Did you mean services?"), command.err());
        Run flag = run(node, snapshot, "trace", "--src", "10.0.0.1", "--dst", "10.96.0.10", "--port", "80", "--prot=tcp");
        assertEquals(2, flag.code());
        assertTrue(flag.err().contains("Did you mean --proto?"), flag.err());
    }

    static ConntrackFlow flow(String src, int sport, String dst, int dport, String ep, int epPort, boolean replied) {
        ConntrackTuple orig = new ConntrackTuple(IpAddresses.parse(src), IpAddresses.parse(dst), 6, sport, dport);
        ConntrackTuple reply = new ConntrackTuple(IpAddresses.parse(ep), IpAddresses.parse(src), 6, epPort, sport);
        return new ConntrackFlow(AddressFamily.INET, orig, reply, 1, 0,
                replied ? ConntrackFlow.IPS_SEEN_REPLY | 4 | ConntrackFlow.IPS_DST_NAT : ConntrackFlow.IPS_DST_NAT,
                replied ? 431999 : 117, 0);
    }

    private static String endpointsPart(String out) {
        return out.substring(out.indexOf("  endpoints:"));
    }

    static final String SERVICES = """
            node node-a (zone zone-a), mode iptables (--proxy-mode)

            SERVICE PORT        PROTO  TYPE       CLUSTER-IPS    NODE-PORT  EXTERNAL/LB-IPS  POLICY            ENDPOINTS-IN/OUT  PROGRAMMED
            default/empty:http  TCP    ClusterIP  10.96.0.40:80  -          -                internal=Cluster  0/0               yes (no endpoint chain: no endpoints)
            default/local:http  TCP    ClusterIP  10.96.0.20:80  -          -                internal=Local    1/1               yes (KUBE-SVL-3ENVKKDUT2EZ6WIE)
            default/web:http    TCP    ClusterIP  10.96.0.10:80  -          -                internal=Cluster  2/2               yes (KUBE-SVC-CDGGSHYLG3RE2FKL)
            default/zoned:http  TCP    ClusterIP  10.96.0.30:80  -          -                internal=Cluster  1/1               yes (KUBE-SVC-GG4JC7UFV67K6XAP)
            """;
    static final String SERVICE_WEB = """
            node node-a (zone zone-a), mode iptables (--proxy-mode)

            default/web:http TCP (ClusterIP)
              cluster IPs 10.96.0.10 port 80; node port -; external/LB IPs -
              internal=Cluster
              programmed (IPv4, iptables):
                nat KUBE-SERVICES
                  -A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
                nat KUBE-SVC-CDGGSHYLG3RE2FKL
                  -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
                  -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.0.21:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-VYVJA673XVPNRQLP
                  -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.0.22:8080" -j KUBE-SEP-DH2VS3CCP5TW42WH
                nat KUBE-SEP-VYVJA673XVPNRQLP
                  -A KUBE-SEP-VYVJA673XVPNRQLP -m comment --comment default/web:http -s 10.244.0.21 -j KUBE-MARK-MASQ
                  -A KUBE-SEP-VYVJA673XVPNRQLP -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.0.21:8080
                nat KUBE-SEP-DH2VS3CCP5TW42WH
                  -A KUBE-SEP-DH2VS3CCP5TW42WH -m comment --comment default/web:http -s 10.244.0.22 -j KUBE-MARK-MASQ
                  -A KUBE-SEP-DH2VS3CCP5TW42WH -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.0.22:8080
              endpoints: 2 in, 2 out
                10.244.0.21:8080  node node-a  in (cluster)  ready
                10.244.0.22:8080  node node-b  in (cluster)  ready
                10.244.0.23:8080  node node-b  out           not ready
                10.244.0.24:8080  node node-b  out           terminating (not used as a fallback: ready endpoints exist)

            """;
    static final String SERVICE_LOCAL_ENDPOINTS = """
              endpoints: 1 in, 1 out
                10.244.0.31:80  node node-a  in (local)  ready
                10.244.0.32:80  node node-b  out         not local (Local traffic policy; endpoint on node node-b)

            """;
    static final String SERVICE_ZONED_ENDPOINTS = """
              endpoints: 1 in, 1 out
                10.244.0.41:80  node node-c  in (cluster)  ready
                10.244.0.42:80  node node-b  out           other zone: hinted for [zone-b], this node is in zone zone-a (topology hints)

            """;
    static final String TRACE_POD = """
            mode iptables (nat chain KUBE-SERVICES exists)
            trace tcp 10.244.1.10 -> 10.96.0.10:80: from another host (nat PREROUTING), arriving on vpod
            service port: default/web:http (cluster IP)

            path (shared by every outcome):
              nat PREROUTING     -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
              nat KUBE-SERVICES  -A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL

            outcome 1: DNAT to 10.244.0.21:8080, not masqueraded, probability 50.00% (1/2)
              nat KUBE-SVC-CDGGSHYLG3RE2FKL  -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.0.21:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-VYVJA673XVPNRQLP
              nat KUBE-SEP-VYVJA673XVPNRQLP  -A KUBE-SEP-VYVJA673XVPNRQLP -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.0.21:8080

            outcome 2: DNAT to 10.244.0.22:8080, not masqueraded, probability 50.00% (1/2)
              nat KUBE-SVC-CDGGSHYLG3RE2FKL  -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.0.22:8080" -j KUBE-SEP-DH2VS3CCP5TW42WH
              nat KUBE-SEP-DH2VS3CCP5TW42WH  -A KUBE-SEP-DH2VS3CCP5TW42WH -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.0.22:8080

            then, in every outcome:
              filter FORWARD        -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
              filter FORWARD        -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
              filter FORWARD        -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
              filter FORWARD        -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
              nat POSTROUTING       -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
              nat KUBE-POSTROUTING  -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN

            endpoints reachable:
              10.244.0.21:8080  50.00% (1/2)  not masqueraded
              10.244.0.22:8080  50.00% (1/2)  not masqueraded
            """;
    static final String TRACE_NODE = """
            mode iptables (nat chain KUBE-SERVICES exists)
            trace tcp 192.168.0.10 -> 10.96.0.10:80: sent by the node itself (nat OUTPUT)
            service port: default/web:http (cluster IP)

            path (shared by every outcome):
              nat OUTPUT                     -A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
              nat KUBE-SERVICES              -A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
              nat KUBE-SVC-CDGGSHYLG3RE2FKL  -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
              nat KUBE-MARK-MASQ             -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000

            outcome 1: DNAT to 10.244.0.21:8080, masqueraded, probability 50.00% (1/2)
              nat KUBE-SVC-CDGGSHYLG3RE2FKL  -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.0.21:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-VYVJA673XVPNRQLP
              nat KUBE-SEP-VYVJA673XVPNRQLP  -A KUBE-SEP-VYVJA673XVPNRQLP -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.0.21:8080

            outcome 2: DNAT to 10.244.0.22:8080, masqueraded, probability 50.00% (1/2)
              nat KUBE-SVC-CDGGSHYLG3RE2FKL  -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.0.22:8080" -j KUBE-SEP-DH2VS3CCP5TW42WH
              nat KUBE-SEP-DH2VS3CCP5TW42WH  -A KUBE-SEP-DH2VS3CCP5TW42WH -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.0.22:8080

            then, in every outcome:
              filter OUTPUT         -A OUTPUT -j KUBE-FIREWALL
              filter OUTPUT         -A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
              filter OUTPUT         -A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
              nat POSTROUTING       -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
              nat KUBE-POSTROUTING  -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
              nat KUBE-POSTROUTING  -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully

            endpoints reachable:
              10.244.0.21:8080  50.00% (1/2)  masqueraded
              10.244.0.22:8080  50.00% (1/2)  masqueraded
            """;
    static final String TRACE_REJECT = """
            mode iptables (nat chain KUBE-SERVICES exists)
            trace tcp 10.244.1.10 -> 10.96.0.40:80: from another host (nat PREROUTING), arriving on vpod

            path:
              nat PREROUTING        -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
              filter FORWARD        -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
              filter FORWARD        -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
              filter FORWARD        -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
              filter KUBE-SERVICES  -A KUBE-SERVICES -m comment --comment "default/empty:http has no endpoints" -m tcp -p tcp -d 10.96.0.40 --dport 80 -j REJECT

            endpoints reachable: none
            other outcomes:
              REJECT  100%
            """;
    static final String CONNTRACK = """
            default/web:http TCP (IPv4): 2 flows
              tcp  10.244.1.10:40001 -> 10.96.0.10:80  => 10.244.0.21:8080  [ASSURED]    timeout 431999s
              tcp  10.244.1.10:40002 -> 10.96.0.10:80  => 10.244.0.23:8080  [UNREPLIED]  timeout 117s     STALE: 10.244.0.23:8080 is not a current endpoint
              1 stale flow (conntrack -D can remove them)
            """;
}
