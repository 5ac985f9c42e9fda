package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code inspect} on the real kernel, next to the real proxy.jar (iptables mode, file source):
 * {@code inspect service} reads the same manifests and the live rules, and explains each
 * endpoint. A not-ready endpoint is out with "not ready"; a terminating one is out while a ready
 * one exists; with internalTrafficPolicy Local an endpoint on another node is out with "not
 * local" — and real connections show the same: only the endpoints inspect calls "in" answer.
 */
class InspectIT {
    static final String LOCAL_IP = "10.96.0.40";
    static final String OTHER_NODE = "fy-other-node";

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(3);

    private static String endpoint(String backend, String node, boolean ready, boolean serving, boolean terminating) {
        return """
                  - addresses: ["%s"]
                    conditions: {ready: %s, serving: %s, terminating: %s}
                    nodeName: %s
                """.formatted(Topology.backendIp(backend), ready, serving, terminating, node);
    }

    private static String slice(String service, String endpoints) {
        return """
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: %s-1
                  namespace: default
                  labels:
                    kubernetes.io/service-name: %s
                addressType: IPv4
                ports:
                  - name: http
                    port: %d
                    protocol: TCP
                endpoints:
                %s""".formatted(service, service, Topology.NAME_TCP_PORT, endpoints);
    }

    private Proc.Result inspect(String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of(args));
        argv.addAll(List.of("--manifests", fx.manifestsPath().toString(), "--hostname-override", ProxyProcess.NODE_NAME));
        Proc.Result r = TraceIT.inspectTool(fx.node(), argv);
        assertEquals(0, r.exit(), r::describe);
        return r;
    }

    /** A line of inspect's endpoint table: address, node, in/out, reason (columns separated by 2+ spaces). */
    private static void assertEndpoint(String out, String backend, String status, String reason) {
        Pattern line = Pattern.compile("(?m)^    " + Pattern.quote(Topology.backendIp(backend) + ":" + Topology.NAME_TCP_PORT)
                + "\\s+node \\S+\\s+" + Pattern.quote(status) + "\\s+" + Pattern.quote(reason) + "$");
        assertTrue(line.matcher(out).find(), () -> "expected " + backend + " " + status + " \"" + reason + "\" in:\n" + out);
    }

    @Test
    void endpointsOutForNotReadyTerminatingAndNotLocal() throws Exception {
        fx.publish("web-service", Manifests.service("web", NodeFixture.WEB_IP, List.of(Manifests.HTTP)));
        fx.publish("web-slice", slice("web", endpoint("b1", ProxyProcess.NODE_NAME, true, true, false)
                + endpoint("b2", OTHER_NODE, false, false, false)
                + endpoint("b3", OTHER_NODE, false, true, true)));
        fx.publish("local-service", Manifests.service("local", LOCAL_IP, List.of(Manifests.HTTP))
                .replace("  type: ClusterIP\n", "  type: ClusterIP\n  internalTrafficPolicy: Local\n"));
        fx.publish("local-slice", slice("local", endpoint("b1", ProxyProcess.NODE_NAME, true, true, false)
                + endpoint("b2", OTHER_NODE, true, true, false)));
        fx.startProxy();
        Checks checks = fx.checks();
        checks.awaitServed(NodeFixture.WEB_IP, 80);

        Proc.Result services = Wait.until("inspect services showing both Services programmed", Duration.ofSeconds(30),
                () -> inspect("inspect", "services"),
                r -> r.out().lines().filter(l -> l.startsWith("default/") && l.contains(" yes (KUBE-SV")).count() == 2,
                Proc.Result::describe);
        assertTrue(services.out().contains("mode iptables"), services::describe);

        Proc.Result web = inspect("inspect", "service", "default/web");
        assertEndpoint(web.out(), "b1", "in (cluster)", "ready");
        assertEndpoint(web.out(), "b2", "out", "not ready");
        assertEndpoint(web.out(), "b3", "out", "terminating (not used as a fallback: ready endpoints exist)");
        assertTrue(web.out().contains("-j DNAT --to-destination " + Checks.ipPort("b1", Topology.NAME_TCP_PORT)), web::describe);

        Proc.Result local = inspect("inspect", "service", "default/local");
        assertEndpoint(local.out(), "b1", "in (local)", "ready");
        assertEndpoint(local.out(), "b2", "out", "not local (Local traffic policy; endpoint on node " + OTHER_NODE + ")");

        // what inspect says is what the kernel does
        checks.assertTcpOnly(fx.pod(), NodeFixture.WEB_IP, 80, Set.of("b1"), 10);
        checks.assertTcpOnly(fx.pod(), LOCAL_IP, 80, Set.of("b1"), 10);
        TraceIT.save("inspect-services.txt", services.out());
        TraceIT.save("inspect-web.txt", web.out());
        TraceIT.save("inspect-local.txt", local.out());
    }

    /**
     * inspect conntrack on real flows: a TCP connection answered by b2 keeps its conntrack entry
     * (TIME_WAIT) after b2 leaves the Service (the proxy clears stale UDP flows only, as
     * upstream); inspect then lists that flow as STALE, and a flow to b1 as current.
     */
    @Test
    void conntrackMarksAFlowToARemovedEndpointStale() throws Exception {
        fx.web("b1", "b2");
        fx.startProxy();
        Checks checks = fx.checks();
        checks.awaitServed(NodeFixture.WEB_IP, 80);
        checks.assertTcpReachesAll(fx.pod(), NodeFixture.WEB_IP, 80, Set.of("b1", "b2"));
        fx.web("b1");
        checks.awaitDnatTargets(Set.of(Checks.ipPort("b1", Topology.NAME_TCP_PORT)),
                Set.of(Checks.ipPort("b2", Topology.NAME_TCP_PORT)));

        Proc.Result flows = inspect("inspect", "conntrack", "default/web");
        Pattern stale = Pattern.compile("(?m)^  tcp\\s+" + Pattern.quote(Topology.POD_IP) + ":\\d+ -> "
                + Pattern.quote(NodeFixture.WEB_IP + ":80") + "\\s+=> " + Pattern.quote(Checks.ipPort("b2", Topology.NAME_TCP_PORT))
                + "\\s.*STALE: " + Pattern.quote(Checks.ipPort("b2", Topology.NAME_TCP_PORT)) + " is not a current endpoint$");
        Pattern current = Pattern.compile("(?m)^  tcp\\s+" + Pattern.quote(Topology.POD_IP) + ":\\d+ -> "
                + Pattern.quote(NodeFixture.WEB_IP + ":80") + "\\s+=> " + Pattern.quote(Checks.ipPort("b1", Topology.NAME_TCP_PORT))
                + "\\s+\\[ASSURED\\]\\s+timeout \\d+s$");
        assertTrue(stale.matcher(flows.out()).find(), () -> "no STALE flow to b2:\n" + flows.describe()
                + "\nconntrack -L:\n" + fx.node().run("conntrack", "-L").out());
        assertTrue(current.matcher(flows.out()).find(), flows::describe);
        TraceIT.save("conntrack-stale.txt", flows.out());
    }
}
