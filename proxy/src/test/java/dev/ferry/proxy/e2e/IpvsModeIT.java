package dev.ferry.proxy.e2e;

import dev.ferry.ipvs.uml.UmlGuest;
import dev.ferry.netfilter.KubeletChains;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `--proxy-mode=ipvs` end to end, inside the user-mode-linux kernel (this machine's has no IPVS), with the built
 * proxy.jar and real connections from a client namespace to socat backends in a backend namespace.
 *
 * <p>It lives in the proxy module because it needs proxy.jar, which is built after the ipvs module; the guest
 * harness comes from the ipvs test-jar. Each test is one guest boot running a shell script of test tooling
 * (src/test/resources/ipvs-guest: namespaces, veths, socat, waits with a bound); the test parses the script's
 * sections. The guest sees the host filesystem (the JDK, the jar, the scratch directory); everything the scripts
 * create lives inside the guest and ends with it.
 */
class IpvsModeIT {

    @TempDir
    Path dir;

    @BeforeEach
    void guestAvailable() throws IOException {
        String why = UmlGuest.unavailability();
        Assumptions.assumeTrue(why == null, why);
        copyResource("setup.sh");
    }

    @Test
    void oneSyncProgramsTheKernelServesTheClusterIpAndCleanupRemovesEverything() throws IOException {
        Files.writeString(dir.resolve("v1.yaml"), service("web", "NodePort", "10.96.0.10",
                port("http", 80, "TCP", 8080, 30080)) + slice("web", port("http", 80, "TCP", 8080, 30080), "2", "3")
                + NODE, StandardCharsets.UTF_8);

        String out = runGuest("once.sh");

        assertEquals("0", section(out, "sync-exit").strip(), "the --once sync worked:\n" + out);
        assertTrue(section(out, "ipsets-after-sync").lines().anyMatch(l -> l.equals("KUBE-CLUSTER-IP")), out);
        assertTrue(section(out, "nat-services").contains("--match-set KUBE-CLUSTER-IP"), out);
        List<String> synced = ipvsTable(section(out, "ipvsadm-after-sync"));
        assertEquals(List.of("TCP 10.96.0.10:80 wrr", "-> 10.100.0.2:8080 Masq 1", "-> 10.100.0.3:8080 Masq 1"),
                service(synced, "TCP 10.96.0.10:80"), out);
        assertEquals(List.of("TCP 10.200.0.1:30080 wrr", "-> 10.100.0.2:8080 Masq 1", "-> 10.100.0.3:8080 Masq 1"),
                service(synced, "TCP 10.200.0.1:30080"), "a NodePort virtual server on a node address:\n" + out);
        // --ipvs-tcpfin-timeout is 0: the kernel's 120 s stays
        assertTrue(section(out, "timeouts").contains("Timeout (tcp tcpfin udp): 900 120 45"), out);
        assertTrue(section(out, "kube-ipvs0").contains("inet 10.96.0.10/32"), out);
        assertEquals("1 1 1 1", section(out, "sysctls").strip(), "conntrack, expire_nodest_conn, "
                + "expire_quiescent_template, ip_forward:\n" + out);
        List<String> replies = section(out, "replies").lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        assertEquals(4, replies.size(), "every connection got an answer:\n" + out);
        assertEquals(Map.of("backend-2", 2, "backend-3", 2), count(replies), "round robin over both:\n" + out);

        assertEquals("0", section(out, "cleanup-exit").strip(), "--cleanup worked:\n" + out);
        // as upstream's (ipvs.Flush()): NodePort virtual servers on the node's addresses go too
        assertEquals(List.of(), ipvsTable(section(out, "ipvsadm-after-cleanup")), out);
        assertTrue(section(out, "link-after-cleanup").contains("absent"), "kube-ipvs0 is gone:\n" + out);
        assertTrue(section(out, "ipsets-after-cleanup").lines().noneMatch(l -> l.startsWith("KUBE-")),
                "no KUBE-* ipset left:\n" + out);
        assertTrue(section(out, "nat-after-cleanup").lines().noneMatch(l -> l.contains("KUBE-")),
                "no KUBE-* chain or jump left:\n" + out);
    }

    @Test
    void theDaemonServesTcpAndUdpOnClusterIpAndNodePortFollowsChangesDrainsAndCleansUdpFlows() throws IOException {
        String web = port("http", 80, "TCP", 8080, 30080) + port("dgram", 81, "UDP", 8081, 30081);
        String hold = port("hold", 90, "TCP", 9090, 0);
        String dns = port("dns", 53, "UDP", 8081, 0);
        String services = service("web", "NodePort", "10.96.0.10", web) + service("hold", "ClusterIP", "10.96.0.20", hold)
                + service("dns", "ClusterIP", "10.96.0.30", dns);
        Files.writeString(dir.resolve("v1.yaml"), services + slice("web", web, "2", "3") + slice("hold", hold, "3")
                + slice("dns", dns, "2") + NODE, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("v2.yaml"), services + slice("web", web, "3", "4") + slice("hold", hold, "4")
                + slice("dns", dns, "4") + NODE, StandardCharsets.UTF_8);

        String out = runGuest("daemon.sh");

        List<String> v1 = ipvsTable(section(out, "ipvsadm-v1"));
        for (String node : List.of("10.100.0.1", "10.200.0.1")) {
            assertTrue(v1.contains("TCP " + node + ":30080 rr") && v1.contains("UDP " + node + ":30081 rr"),
                    "a NodePort virtual server on every node address:\n" + out);
        }
        assertEquals(List.of("TCP 10.96.0.10:80 rr", "-> 10.100.0.2:8080 Masq 1", "-> 10.100.0.3:8080 Masq 1"),
                service(v1, "TCP 10.96.0.10:80"), out);
        assertEquals(List.of("UDP 10.96.0.30:53 rr", "-> 10.100.0.2:8081 Masq 1"), service(v1, "UDP 10.96.0.30:53"), out);
        Map<String, Map<String, Integer>> before = repliesByPath(section(out, "replies-v1"));
        for (String path : List.of("tcp-cluster", "tcp-nodeport", "udp-cluster", "udp-nodeport")) {
            assertEquals(Map.of("backend-2", 2, "backend-3", 2), before.get(path),
                    path + ": four connections, round robin over both endpoints:\n" + out);
        }
        String inspect = section(out, "inspect-services-v1");
        for (String port : List.of("default/web:http", "default/web:dgram", "default/hold:hold", "default/dns:dns")) {
            assertTrue(inspect.lines().anyMatch(l -> l.startsWith(port + " ") && l.contains(" yes (")),
                    "inspect services sees " + port + " programmed on the live IPVS table:\n" + out);
        }
        String trace = section(out, "trace-v1");
        assertTrue(trace.contains("virtual server: TCP 10.96.0.10:80 rr"), "trace reads the live IPVS table:\n" + out);
        assertTrue(trace.contains("10.100.0.2:8080  50.00% (1/2)") && trace.contains("10.100.0.3:8080  50.00% (1/2)"),
                "trace names both endpoints, half each:\n" + out);
        assertEquals("backend-2", section(out, "udp-pinned-v1").strip(), out);
        assertTrue(section(out, "conntrack-v1").contains("src=10.100.0.2"), "IPVS made a conntrack flow:\n" + out);
        assertEquals("backend-3", section(out, "hold-greeting").strip(), out);

        List<String> v2 = ipvsTable(section(out, "ipvsadm-v2"));
        // the earlier connections to .2 wait in TIME_WAIT (InActConn), so it drains at weight 0 too; on a slow
        // machine their TIME_WAIT may be over before this sync, and then it is deleted at once
        List<String> webV2 = service(v2, "TCP 10.96.0.10:80");
        assertTrue(webV2.equals(List.of("TCP 10.96.0.10:80 rr", "-> 10.100.0.2:8080 Masq 0", "-> 10.100.0.3:8080 Masq 1",
                        "-> 10.100.0.4:8080 Masq 1"))
                        || webV2.equals(List.of("TCP 10.96.0.10:80 rr", "-> 10.100.0.3:8080 Masq 1", "-> 10.100.0.4:8080 Masq 1")),
                "the endpoint change is in the table:\n" + out);
        assertEquals(List.of("TCP 10.96.0.20:90 rr", "-> 10.100.0.3:9090 Masq 0", "-> 10.100.0.4:9090 Masq 1"),
                service(v2, "TCP 10.96.0.20:90"), "the removed endpoint drains at weight 0:\n" + out);
        assertTrue(activeConnections(section(out, "ipvsadm-v2"), "10.100.0.3:9090") == 1,
                "the open connection is still there:\n" + out);
        String draining = section(out, "trace-draining");
        assertTrue(draining.contains("10.100.0.3:9090  0%") && draining.contains("10.100.0.4:9090  100"),
                "trace: the draining endpoint takes no new connections:\n" + out);
        assertEquals(List.of("UDP 10.96.0.30:53 rr", "-> 10.100.0.4:8081 Masq 1"), service(v2, "UDP 10.96.0.30:53"),
                "a removed UDP endpoint goes at once:\n" + out);
        Map<String, Map<String, Integer>> after = repliesByPath(section(out, "replies-v2"));
        for (String path : List.of("tcp-cluster", "tcp-nodeport", "udp-cluster", "udp-nodeport")) {
            assertEquals(Map.of("backend-3", 2, "backend-4", 2), after.get(path), path + " after the change:\n" + out);
        }
        assertFalse(section(out, "conntrack-v2").contains("src=10.100.0.2"),
                "the stale UDP flow to the removed endpoint was deleted:\n" + out);
        assertEquals("backend-4", section(out, "udp-pinned-v2").strip(),
                "the same client port now reaches the new endpoint:\n" + out);

        assertEquals(List.of("TCP 10.96.0.20:90 rr", "-> 10.100.0.4:9090 Masq 1"),
                service(ipvsTable(section(out, "ipvsadm-drained")), "TCP 10.96.0.20:90"),
                "once its connection ended, the drained endpoint was deleted:\n" + out);
        assertEquals("0", section(out, "proxy-exit").strip(), "SIGTERM stops the proxy cleanly:\n" + out);
        assertFalse(section(out, "proxy-log").contains("sync failed"), out);
    }

    /**
     * A node that ran the iptables mode (a Service with endpoints, one without: filter KUBE-SERVICES REJECTs it)
     * and has userspace mode's portals left, next to the kubelet's chains, starts in ipvs mode: its first sync
     * removes the other modes' chains it does not use, its own rules serve the Service, and the kubelet's chains
     * are byte for byte as they were, after the sync and after --cleanup.
     */
    @Test
    void theFirstSyncRemovesTheOtherModesLeftoversAndNothingTouchesTheKubeletsChains() throws IOException {
        String web = port("http", 80, "TCP", 8080, 30080);
        String gone = port("http", 80, "TCP", 8080, 0);
        Files.writeString(dir.resolve("v1.yaml"), service("web", "NodePort", "10.96.0.10", web)
                + service("empty", "ClusterIP", "10.96.0.20", gone) + slice("web", web, "2") + NODE, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("kubelet.rules"), KubeletChains.RULES, StandardCharsets.UTF_8);

        String out = runGuest("switch.sh");

        assertEquals("0", section(out, "iptables-exit").strip(), "the iptables mode ran first:\n" + out);
        String before = section(out, "before");
        assertTrue(before.contains("-A KUBE-SERVICES -d 10.96.0.20/32") && before.contains("-j REJECT"),
                "the iptables mode rejects the Service without endpoints in filter KUBE-SERVICES:\n" + out);
        assertTrue(before.contains(":KUBE-PORTALS-CONTAINER") && before.contains(":KUBE-SVC-"), out);
        List<String> kubelet = KubeletChains.lines(before);
        assertEquals(10, kubelet.size(), out);

        assertEquals("0", section(out, "ipvs-exit").strip(), "the ipvs mode's sync worked:\n" + out);
        String after = section(out, "after-ipvs");
        for (String left : List.of("KUBE-SVC-", "KUBE-SEP-", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES",
                "KUBE-PROXY-CANARY", "KUBE-PORTALS-CONTAINER", "KUBE-NODEPORT-NON-LOCAL", "10.96.0.20/32")) {
            assertFalse(after.contains(left), left + " is left after ipvs mode's first sync:\n" + out);
        }
        assertTrue(after.contains("--match-set KUBE-CLUSTER-IP") && after.contains(":KUBE-IPVS-FILTER"),
                "ipvs mode's own rules are in place:\n" + out);
        assertEquals(kubelet, KubeletChains.lines(after), "ipvs mode's start changed the kubelet's chains:\n" + out);
        assertEquals("backend-2", section(out, "reply").strip(), "the Service is served through IPVS:\n" + out);

        assertEquals("0", section(out, "cleanup-exit").strip(), "--cleanup worked:\n" + out);
        String clean = section(out, "after-cleanup");
        assertEquals(kubelet, KubeletChains.lines(clean), "--cleanup changed the kubelet's chains:\n" + out);
        assertEquals(kubelet.size(), clean.lines().filter(l -> l.contains("KUBE-")).count(),
                "--cleanup left more than the kubelet's chains:\n" + out);
        assertEquals(List.of(), ipvsTable(section(out, "ipvsadm-after-cleanup")), out);
    }

    private String runGuest(String script) throws IOException {
        Path path = copyResource(script);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        UmlGuest.Result r = UmlGuest.run(Duration.ofMinutes(5), List.of(List.of("sh", path.toString(),
                dir.toString(), java, ProxyProcess.jar().toString())));
        String out = r.output();
        System.out.println("guest transcript of " + script + ":\n" + out);
        assertEquals(0, r.exit(), out);
        return out;
    }

    private Path copyResource(String name) throws IOException {
        try (InputStream in = IpvsModeIT.class.getResourceAsStream("/ipvs-guest/" + name)) {
            if (in == null) {
                throw new IOException("no test resource ipvs-guest/" + name);
            }
            Path target = dir.resolve(name);
            Files.write(target, in.readAllBytes());
            return target;
        }
    }

    private static final String NODE = """
            apiVersion: v1
            kind: Node
            metadata: {name: node-a}
            """;

    /** One "ports" entry of a Service; nodePort 0 for none. */
    private static String port(String name, int port, String protocol, int targetPort, int nodePort) {
        return "{name: " + name + ", port: " + port + ", protocol: " + protocol + ", targetPort: " + targetPort
                + (nodePort == 0 ? "" : ", nodePort: " + nodePort) + "}\n";
    }

    private static String service(String name, String type, String clusterIp, String ports) {
        return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: default}\nspec:\n  type: "
                + type + "\n  clusterIP: " + clusterIp + "\n  clusterIPs: [" + clusterIp + "]\n  ports: ["
                + String.join(", ", ports.strip().split("\n")) + "]\n---\n";
    }

    /** An EndpointSlice of the service's ports (target ports) with ready endpoints 10.100.0.{hosts}. */
    private static String slice(String service, String servicePorts, String... hosts) {
        List<String> ports = new ArrayList<>();
        Matcher m = Pattern.compile("name: (\\S+), port: \\d+, protocol: (\\S+), targetPort: (\\d+)").matcher(servicePorts);
        while (m.find()) {
            ports.add("{name: " + m.group(1) + ", port: " + m.group(3) + ", protocol: " + m.group(2).replace(",", "") + "}");
        }
        StringBuilder s = new StringBuilder("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: "
                + service + "-1\n  namespace: default\n  labels: {kubernetes.io/service-name: " + service
                + "}\naddressType: IPv4\nports: [" + String.join(", ", ports) + "]\nendpoints:\n");
        for (String h : hosts) {
            s.append("  - {addresses: [10.100.0.").append(h).append("], conditions: {ready: true}, nodeName: node-b}\n");
        }
        return s.append("---\n").toString();
    }

    /** The lines after "== name" up to the next marker. */
    private static String section(String out, String name) {
        int start = out.indexOf("== " + name + "\n");
        if (start < 0) {
            throw new AssertionError("no section " + name + " in the guest's output:\n" + out);
        }
        start += name.length() + 4;
        int end = out.indexOf("\n== ", start - 1);
        return end < 0 ? out.substring(start) : out.substring(start, end + 1);
    }

    /** "path reply" lines as path → reply → count. */
    private static Map<String, Map<String, Integer>> repliesByPath(String text) {
        Map<String, Map<String, Integer>> out = new TreeMap<>();
        for (String line : text.strip().split("\n")) {
            String[] parts = line.strip().split(" ", 2);
            out.computeIfAbsent(parts[0], k -> new TreeMap<>()).merge(parts.length > 1 ? parts[1] : "(no reply)", 1,
                    Integer::sum);
        }
        return out;
    }

    private static Map<String, Integer> count(List<String> lines) {
        return lines.stream().collect(Collectors.toMap(l -> l, l -> 1, Integer::sum, TreeMap::new));
    }

    private static final Pattern SERVICE = Pattern.compile("^(TCP|UDP|SCTP)\\s+(\\S+)\\s+(\\S+).*$");
    private static final Pattern REAL = Pattern.compile("^\\s*->\\s+(\\d\\S*)\\s+(\\S+)\\s+(\\d+)\\s+(\\d+)\\s+\\d+\\s*$");

    /** ipvsadm -Ln as "PROTO VIP:PORT SCHED" and "-> RIP:PORT FWD WEIGHT" lines, headers dropped. */
    static List<String> ipvsTable(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            Matcher s = SERVICE.matcher(line);
            Matcher d = REAL.matcher(line);
            if (s.matches()) {
                out.add(s.group(1) + " " + s.group(2) + " " + s.group(3));
            } else if (d.matches()) {
                out.add("-> " + d.group(1) + " " + d.group(2) + " " + d.group(3));
            }
        }
        return out;
    }

    /** One virtual server's lines of {@link #ipvsTable}: its header (starting with {@code key}) and its real servers. */
    private static List<String> service(List<String> table, String key) {
        List<String> out = new ArrayList<>();
        for (String line : table) {
            if (line.startsWith("->")) {
                if (!out.isEmpty()) {
                    out.add(line);
                }
            } else if (!out.isEmpty()) {
                break;
            } else if (line.startsWith(key + " ")) {
                out.add(line);
            }
        }
        return out;
    }

    /** The ActiveConn column of a real server in ipvsadm -Ln output. */
    private static int activeConnections(String text, String realServer) {
        for (String line : text.split("\n")) {
            Matcher d = REAL.matcher(line);
            if (d.matches() && d.group(1).equals(realServer)) {
                return Integer.parseInt(d.group(4));
            }
        }
        throw new AssertionError("no real server " + realServer + " in\n" + text);
    }
}
