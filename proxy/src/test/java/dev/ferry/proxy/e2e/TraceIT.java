package dev.ferry.proxy.e2e;

import dev.ferry.core.Endpoint;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import dev.ferry.iptables.ChainNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code trace} on the real kernel: the real proxy.jar programs Service "web" (three backends) in
 * iptables mode in a node namespace; trace, run in that namespace against the live rules, names
 * the endpoints a client's packet can reach and the path KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-…;
 * then a real connection is made and its conntrack entry read: the endpoint the kernel chose (the
 * reply's source) must be one trace printed, reached through that endpoint's own KUBE-SEP chain,
 * and trace's masquerade verdict must match where the reply goes (the client itself, or the node).
 */
class TraceIT {
    private static final ServicePortName WEB_HTTP = new ServicePortName("default", "web", "http", Protocol.TCP);
    private static final Pattern ENDPOINT_LINE =
            Pattern.compile("^  (\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+)\\s+(\\S+)(?: \\(\\d+/\\d+\\))?\\s+(not masqueraded|masqueraded)$");
    private static final Pattern REPLY = Pattern.compile(
            "src=(\\S+) dst=(\\S+) sport=(\\d+) dport=(\\d+) .*?src=(\\S+) dst=(\\S+) sport=(\\d+) dport=(\\d+)");

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(3);

    /** One outcome block of trace's output: its header and its rules. */
    record Outcome(String header, List<String> rules) {
    }

    /** What trace printed, split up. */
    record TraceOutput(String text, List<String> sharedPath, List<Outcome> outcomes, List<String> thenPath,
                       List<String[]> endpoints) {
        static TraceOutput parse(String text) {
            List<String> lines = text.lines().toList();
            int start = 0;
            while (start < lines.size() && !lines.get(start).startsWith("trace ")) {
                start++; // anything before the header is not trace's (e.g. a logging library's chatter)
            }
            List<String> shared = new ArrayList<>();
            List<Outcome> outcomes = new ArrayList<>();
            List<String> then = new ArrayList<>();
            List<String[]> endpoints = new ArrayList<>();
            List<String> current = null;
            for (String line : lines.subList(start, lines.size())) {
                if (line.startsWith("path")) {
                    current = shared;
                } else if (line.startsWith("outcome ")) {
                    Outcome o = new Outcome(line, new ArrayList<>());
                    outcomes.add(o);
                    current = o.rules();
                } else if (line.startsWith("then, in every outcome")) {
                    current = then;
                } else if (line.startsWith("endpoints reachable")) {
                    current = null;
                } else if (current != null && line.startsWith("  ")) {
                    current.add(line.strip());
                } else if (current == null) {
                    Matcher m = ENDPOINT_LINE.matcher(line);
                    if (m.matches()) {
                        endpoints.add(new String[] {m.group(1), m.group(2), m.group(3)});
                    }
                }
            }
            return new TraceOutput(text, shared, outcomes, then, endpoints);
        }

        Set<String> endpointSet() {
            Set<String> out = new TreeSet<>();
            endpoints.forEach(e -> out.add(e[0]));
            return out;
        }

        String masqueradeOf(String endpoint) {
            return endpoints.stream().filter(e -> e[0].equals(endpoint)).map(e -> e[2]).findFirst().orElse(null);
        }

        /** The rules on the path to {@code endpoint}: the shared ones, then its outcome's. */
        List<String> pathTo(String endpoint) {
            List<String> path = new ArrayList<>(sharedPath);
            outcomes.stream().filter(o -> o.header().contains("DNAT to " + endpoint + ","))
                    .findFirst().ifPresent(o -> path.addAll(o.rules()));
            return path;
        }
    }

    static Proc.Result inspectTool(NetNs ns, List<String> args) {
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", ProxyProcess.jar().toString(), "dev.ferry.proxy.inspect.InspectCommands"));
        argv.addAll(args);
        return ns.run(Duration.ofSeconds(60), argv);
    }

    private TraceOutput trace(String src) {
        Proc.Result r = inspectTool(fx.node(), List.of("trace", "--src", src, "--dst", NodeFixture.WEB_IP, "--port", "80",
                "--proto", "tcp"));
        assertEquals(0, r.exit(), r::describe);
        return TraceOutput.parse(r.out());
    }

    @Test
    void tracedPathAndEndpointsMatchARealConnectionsConntrackEntry() throws Exception {
        fx.web("b1", "b2", "b3");
        fx.startProxy();
        Checks checks = fx.checks();
        checks.awaitServed(NodeFixture.WEB_IP, 80);
        String svcChain = ChainNames.service(WEB_HTTP);

        TraceOutput pod = trace(Topology.POD_IP);
        Set<String> expected = new TreeSet<>(List.of(Checks.ipPort("b1", Topology.NAME_TCP_PORT),
                Checks.ipPort("b2", Topology.NAME_TCP_PORT), Checks.ipPort("b3", Topology.NAME_TCP_PORT)));
        assertEquals(expected, pod.endpointSet(), pod::text);
        pod.endpoints().forEach(e -> assertEquals("33.33%", e[1], pod::text));
        assertTrue(pod.text().contains("arriving on vpod"), pod::text); // in-interface from the route back to the pod
        assertTrue(pod.sharedPath().stream().anyMatch(l -> l.startsWith("nat PREROUTING ") && l.endsWith("-j KUBE-SERVICES")),
                pod::text);
        assertTrue(pod.sharedPath().stream().anyMatch(l -> l.startsWith("nat KUBE-SERVICES ") && l.endsWith("-j " + svcChain)),
                pod::text);

        // a real connection from the pod, and the kernel's record of where it went
        Proc.Result answer = Clients.tcp(fx.pod(), NodeFixture.WEB_IP, 80);
        String backend = answer.out().strip();
        assertTrue(Set.of("b1", "b2", "b3").contains(backend), () -> answer.describe() + "\n" + checks.state());
        Matcher flow = conntrackReply(Topology.POD_IP);
        String chosen = flow.group(5) + ":" + flow.group(7);
        assertEquals(Checks.ipPort(backend, Topology.NAME_TCP_PORT), chosen, flow.group());
        assertTrue(pod.endpointSet().contains(chosen), () -> "conntrack chose " + chosen + ", trace printed " + pod.endpointSet());
        assertEquals(Topology.POD_IP, flow.group(6), "a pod's connection is not masqueraded: " + flow.group());
        assertEquals("not masqueraded", pod.masqueradeOf(chosen), pod::text);
        String sepChain = ChainNames.endpoint(WEB_HTTP, Endpoint.ready(IpAddresses.parse(flow.group(5)), Topology.NAME_TCP_PORT));
        List<String> path = pod.pathTo(chosen);
        assertChainOrder(path, List.of("nat PREROUTING", "nat KUBE-SERVICES", "nat " + svcChain, "nat " + sepChain), pod.text());
        assertTrue(path.stream().anyMatch(l -> l.startsWith("nat " + sepChain + " ")
                && l.endsWith("-j DNAT --to-destination " + chosen)), pod::text);

        // from outside the cluster CIDR: trace says masqueraded, and the reply goes to the node
        TraceOutput ext = trace(Topology.EXT_IP);
        assertEquals(expected, ext.endpointSet(), ext::text);
        ext.endpoints().forEach(e -> assertEquals("masqueraded", e[2], ext::text));
        Proc.Result extAnswer = Clients.tcp(fx.ext(), NodeFixture.WEB_IP, 80);
        assertTrue(Set.of("b1", "b2", "b3").contains(extAnswer.out().strip()), extAnswer::describe);
        Matcher extFlow = conntrackReply(Topology.EXT_IP);
        assertTrue(ext.endpointSet().contains(extFlow.group(5) + ":" + extFlow.group(7)), extFlow.group());
        assertEquals(Topology.NODE_BRIDGE_IP, extFlow.group(6), "masqueraded: the reply goes to the node: " + extFlow.group());

        // inspect conntrack reads the same flows over netlink and names their endpoints
        Proc.Result flows = inspectTool(fx.node(), List.of("inspect", "conntrack", "default/web",
                "--manifests", fx.manifestsPath().toString(), "--hostname-override", ProxyProcess.NODE_NAME));
        assertEquals(0, flows.exit(), flows::describe);
        Pattern listed = Pattern.compile("(?m)^  tcp\\s+" + Pattern.quote(Topology.POD_IP + ":" + flow.group(3) + " -> "
                + NodeFixture.WEB_IP + ":80") + "\\s+=> " + Pattern.quote(chosen) + "\\s");
        assertTrue(listed.matcher(flows.out()).find(), flows::describe);
        assertTrue(!flows.out().contains("STALE"), flows::describe);
        save("trace-pod.txt", pod.text());
        save("trace-ext.txt", ext.text());
        save("conntrack.txt", flows.out());
    }

    /** The conntrack entry of the pod's or the client's last connection to the web Service. */
    private Matcher conntrackReply(String client) {
        return Wait.until("a conntrack entry from " + client + " to " + NodeFixture.WEB_IP + ":80", Duration.ofSeconds(10),
                () -> {
                    String out = fx.node().check("conntrack", "-L", "-p", "tcp", "--orig-src", client,
                            "--orig-dst", NodeFixture.WEB_IP, "--dport", "80").out();
                    Matcher m = REPLY.matcher(out);
                    return m.find() ? m : null;
                }, m -> m != null, m -> "none: " + fx.node().run("conntrack", "-L").out());
    }

    private static void assertChainOrder(List<String> path, List<String> chains, String text) {
        int at = 0;
        for (String line : path) {
            if (at < chains.size() && line.startsWith(chains.get(at) + " ")) {
                at++;
            }
        }
        assertEquals(chains.size(), at, "trace's path does not go " + chains + ":\n" + text);
    }

    /** The output, for docs/debugging.md, when ferry.inspectOutputDir is set. */
    static void save(String name, String text) throws java.io.IOException {
        String dir = System.getProperty("ferry.inspectOutputDir");
        if (dir != null && !dir.isBlank()) {
            Files.createDirectories(Path.of(dir));
            Files.writeString(Path.of(dir, name), text);
        }
    }
}
