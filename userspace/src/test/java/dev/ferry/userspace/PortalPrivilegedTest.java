package dev.ferry.userspace;

import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.ChainNames;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.iptables.IptablesConfig;
import dev.ferry.iptables.IptablesPrivilegedTest;
import dev.ferry.iptables.TestBackends;
import dev.ferry.iptables.TestSnapshots;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.KubeletChains;
import dev.ferry.netfilter.NetNamespace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.ferry.userspace.PortalWriterTest.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Portals on the real kernel: a "node" namespace with plain socat listeners on the proxy
 * ports, a "client" namespace behind a veth pair, real TCP and UDP through the rules.
 */
@Tag("privileged")
class PortalPrivilegedTest {

    /** An admin's and Docker's rules, which must stay byte-identical. */
    private static final String FOREIGN = IptablesPrivilegedTest.FOREIGN;

    private static final String NODE_IP = "10.99.0.1";
    private static final String CLIENT_IP = "10.99.0.2";
    private static final String NODE_IP6 = "fd99::1";
    private static final String CLIENT_IP6 = "fd99::2";
    private static final int TCP_PROXY = 40000;
    private static final int UDP_PROXY = 40001;
    private static final int TCP6_PROXY = 40002;

    private NetNamespace node;
    private NetNamespace client;
    private final List<Process> listeners = new ArrayList<>();
    /** Every restore input this test's PortalRules sent, each checked with iptables-restore --test first. */
    private final List<String> payloads = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(NetNamespace.isRoot(), "needs root to create network namespaces, veth links and run iptables");
        node = NetNamespace.create();
        client = NetNamespace.create();
        node.exec(null, "ip", "link", "set", "lo", "up");
        client.exec(null, "ip", "link", "set", "lo", "up");
        node.exec(null, "ip", "link", "add", "vn", "type", "veth", "peer", "name", "vc", "netns", client.name);
        node.exec(null, "ip", "addr", "add", NODE_IP + "/24", "dev", "vn");
        node.exec(null, "ip", "-6", "addr", "add", NODE_IP6 + "/64", "dev", "vn", "nodad");
        client.exec(null, "ip", "addr", "add", CLIENT_IP + "/24", "dev", "vc");
        client.exec(null, "ip", "-6", "addr", "add", CLIENT_IP6 + "/64", "dev", "vc", "nodad");
        node.exec(null, "ip", "link", "set", "vn", "up");
        client.exec(null, "ip", "link", "set", "vc", "up");
        // Service IPs are routed towards the node (client) and, as on a real node, somewhere out (node).
        client.exec(null, "ip", "route", "add", "default", "via", NODE_IP);
        client.exec(null, "ip", "-6", "route", "add", "default", "via", NODE_IP6);
        node.exec(null, "ip", "route", "add", "default", "via", CLIENT_IP);
        node.exec(null, "ip", "-6", "route", "add", "default", "via", CLIENT_IP6);
        node.exec(FOREIGN, "iptables-restore", "--noflush");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : listeners) {
            p.destroyForcibly();
            p.waitFor();
        }
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    /** The node's runner, checking each restore input with iptables-restore --test before applying it. */
    private CommandRunner checkedRunner() {
        return (argv, stdin) -> {
            if (argv.get(0).endsWith("-restore")) {
                String payload = new String(stdin, StandardCharsets.UTF_8);
                payloads.add(payload);
                CommandRunner.Result test = node.runner.run(List.of(argv.get(0), "--test", "--noflush"), stdin);
                assertTrue(test.ok(), "iptables-restore --test rejects:\n" + payload + "\n" + test.stderr());
            }
            return node.runner.run(argv, stdin);
        };
    }

    /** socat on the node answering every TCP connection with {@code answer}. */
    private void listen(String address, String answer) throws Exception {
        start("socat", address, "EXEC:/bin/echo " + answer);
    }

    /**
     * socat on the node answering each datagram with {@code prefix=} and the datagram. (An
     * echo that ignores its input may exit before socat hands it the datagram, and the
     * broken pipe then ends socat's child before it replies.)
     */
    private void listenUdp(int port, String prefix) throws Exception {
        start("socat", "-T", "3", "UDP-RECVFROM:" + port + ",fork", "EXEC:/bin/sed -u s/^/" + prefix + "=/");
    }

    private void start(String... argv) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", node.name));
        command.addAll(List.of(argv));
        listeners.add(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    }

    private void awaitListening(String ssFlags, int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (!node.exec(null, "ss", "-H", ssFlags, "sport = :" + port).isBlank()) {
                return;
            }
            for (Process p : listeners) {
                assertTrue(p.isAlive(), "a listener exited");
            }
        }
        fail("nothing listens on port " + port + " in the node namespace after 10 s");
    }

    /** The answer to one TCP connection (nothing sent) or one UDP datagram, from {@code from}. */
    private static String ask(NetNamespace from, String socatAddress) throws IOException {
        boolean udp = socatAddress.startsWith("UDP");
        List<String> argv = List.of("timeout", "10", "socat", "-T", "5", "-t", udp ? "2" : "5", "STDIO", socatAddress);
        CommandRunner.Result r = from.runner.run(argv, udp ? "ping\n".getBytes(StandardCharsets.UTF_8) : null);
        return r.stdout().strip() + (r.ok() ? "" : " (exit " + r.exitCode() + ": " + r.stderr().strip() + ")");
    }

    private String save() throws IOException {
        // Policy counters move with traffic; rules and chains are what must not change.
        return node.save("iptables-save", "mangle", "filter", "nat").replaceAll("\\[\\d+:\\d+\\]", "[0:0]");
    }

    private List<String> foreignLines(String saved) {
        return node.lines(saved).stream()
                .filter(l -> l.contains("DOCKER") || l.contains("1.2.3.4") || l.contains("172.17.0.0/16")).toList();
    }

    @Test
    void portalsCarryRealTrafficReapplyIsIdempotentAndCleanupRemovesThem() throws Exception {
        // The node ran the iptables mode before (and kubelet's firewall chain is there).
        IptablesBackend iptablesMode = TestBackends.inNamespace(node, IpFamily.IPV4, IptablesConfig.defaults(), node.runner).build();
        var svc = Fixtures.clusterIPService("ns4", "svc4", "172.30.0.44", "p80", 80, "TCP");
        var snapshot = new TestSnapshots().add(svc)
                .add(Fixtures.slice("ns4", "s", "svc4", "p80", 80, "TCP", Ep.ready("10.180.0.4"))).snapshot();
        SyncResult synced = iptablesMode.sync(snapshot);
        assertTrue(synced.ok(), synced.error());
        String beforeSave = save();
        assertTrue(beforeSave.contains(":KUBE-SERVICES") && beforeSave.contains(":KUBE-FIREWALL"), beforeSave);
        List<String> foreign = foreignLines(beforeSave);
        assertEquals(8, foreign.size(), foreign.toString());

        listen("TCP-LISTEN:" + TCP_PROXY + ",fork,reuseaddr", "tcp-listener");
        listenUdp(UDP_PROXY, "udp-listener");
        awaitListening("-tln", TCP_PROXY);
        awaitListening("-uln", UDP_PROXY);

        PortalRules rules = new PortalRules(IpFamily.IPV4, checkedRunner(), ChainNames::isIptablesModeChain);
        InetAddress host = IpAddresses.parse(NODE_IP);
        List<Portal> portals = List.of(
                new Portal(port("ns", "web", "http", Protocol.TCP, 80, 30080, List.of("172.30.0.10"), List.of(), List.of()), TCP_PROXY),
                new Portal(port("ns", "dns", "dns", Protocol.UDP, 53, 30053, List.of("172.30.0.53"), List.of(), List.of()), UDP_PROXY),
                new Portal(port("ns", "sig", "", Protocol.SCTP, 3868, 0, List.of("172.30.0.99"), List.of(), List.of()), 40009));
        PortalRules.Applied result = rules.apply(portals, host);
        assertTrue(result.lines() > 0);
        assertEquals(1, result.warnings().size(), result.warnings().toString());
        assertTrue(result.warnings().get(0).contains("SCTP"), result.warnings().toString());

        String applied = save();
        for (String chain : List.of("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-SVC-", "KUBE-SEP-", "KUBE-POSTROUTING",
                "KUBE-PROXY-CANARY", "KUBE-FORWARD", "KUBE-EXTERNAL-SERVICES", "KUBE-PROXY-FIREWALL")) {
            assertFalse(applied.contains(chain), "iptables mode's " + chain + " left:\n" + applied);
        }
        for (String line : List.of(
                "-A PREROUTING -m comment --comment \"handle ClusterIPs; NOTE: this must be before the NodePort rules\" -j KUBE-PORTALS-CONTAINER",
                "-A OUTPUT -m comment --comment \"handle ClusterIPs; NOTE: this must be before the NodePort rules\" -j KUBE-PORTALS-HOST",
                "-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment \"handle service NodePorts; NOTE: this must be the last rule in the chain\" -j KUBE-NODEPORT-CONTAINER",
                "-A INPUT -m comment --comment \"Ensure that non-local NodePort traffic can flow\" -j KUBE-NODEPORT-NON-LOCAL",
                "-A KUBE-PORTALS-CONTAINER -d 172.30.0.10/32 -p tcp -m comment --comment \"ns/web:http\" -m tcp --dport 80 -j REDIRECT --to-ports 40000",
                "-A KUBE-PORTALS-HOST -d 172.30.0.10/32 -p tcp -m comment --comment \"ns/web:http\" -m tcp --dport 80 -j DNAT --to-destination 10.99.0.1:40000",
                "-A KUBE-NODEPORT-NON-LOCAL -p udp -m comment --comment \"ns/dns:dns\" -m udp --dport 40001 -m state --state NEW -j ACCEPT",
                "-A INPUT -j KUBE-FIREWALL")) {
            assertTrue(applied.contains(line + "\n"), "missing: " + line + "\nin:\n" + applied);
        }
        List<String> prerouting = node.lines(applied).stream().filter(l -> l.startsWith("-A PREROUTING")).toList();
        assertEquals(List.of("KUBE-PORTALS-CONTAINER", "DOCKER", "KUBE-NODEPORT-CONTAINER"),
                prerouting.stream().map(l -> l.substring(l.lastIndexOf(' ') + 1)).toList(),
                "portals first, NodePorts last: " + prerouting);
        assertEquals(foreign, foreignLines(applied), "Docker's and the admin's rules are untouched");

        // Re-apply: byte-identical tables, no jump twice.
        rules.apply(portals, host);
        assertEquals(applied, save());

        // Real traffic: from another host (container portals) and from the node itself (host portals).
        assertEquals("tcp-listener", ask(client, "TCP:172.30.0.10:80,connect-timeout=5"), "client -> ClusterIP");
        assertEquals("tcp-listener", ask(client, "TCP:" + NODE_IP + ":30080,connect-timeout=5"), "client -> NodePort");
        assertEquals("tcp-listener", ask(node, "TCP:172.30.0.10:80,connect-timeout=5"), "node -> ClusterIP");
        assertEquals("tcp-listener", ask(node, "TCP:127.0.0.1:30080,connect-timeout=5"), "node -> localhost NodePort");
        assertEquals("tcp-listener", ask(node, "TCP:" + NODE_IP + ":30080,connect-timeout=5"), "node -> own NodePort");
        assertEquals("udp-listener=ping", ask(client, "UDP:172.30.0.53:53"), "client -> UDP ClusterIP");
        assertEquals("udp-listener=ping", ask(node, "UDP:172.30.0.53:53"), "node -> UDP ClusterIP");
        assertEquals("udp-listener=ping", ask(client, "UDP:" + NODE_IP + ":30053"), "client -> UDP NodePort");
        // A port no portal covers is not redirected (nothing listens on the ClusterIP itself).
        assertFalse(ask(client, "TCP:172.30.0.10:81,connect-timeout=2").startsWith("tcp-listener"));

        // A changed set: the removed portal's rules go, the others stay; traffic follows.
        rules.apply(portals.subList(0, 1), host);
        String fewer = save();
        assertFalse(fewer.contains("ns/dns"), fewer);
        assertEquals("tcp-listener", ask(client, "TCP:172.30.0.10:80,connect-timeout=5"));
        assertEquals(foreign, foreignLines(fewer));

        // Back to the iptables mode: its first full sync removes the portals, which would
        // otherwise keep capturing Service traffic for listeners that are gone.
        IptablesBackend back = TestBackends.inNamespace(node, IpFamily.IPV4, IptablesConfig.defaults(), node.runner)
                .leftovers(PortalChains::isPortalChain).build();
        SyncResult resynced = back.sync(snapshot);
        assertTrue(resynced.ok(), resynced.error());
        String after = save();
        assertFalse(after.contains("KUBE-PORTALS") || after.contains("KUBE-NODEPORT-"), after);
        assertTrue(after.contains(":KUBE-SERVICES") && after.contains("-j KUBE-SERVICES"), after);
        assertEquals(foreign, foreignLines(after));
        rules.apply(portals.subList(0, 1), host);

        // --cleanup's path removes every portal chain and jump; the foreign rules stay, and so does the
        // kubelet's KUBE-FIREWALL the iptables mode wrote (upstream's cleanup keeps it too).
        SyncResult cleaned = iptablesMode.cleanup();
        assertTrue(cleaned.ok(), cleaned.error());
        String clean = save();
        assertEquals(List.of(), node.lines(clean).stream()
                .filter(l -> l.contains("KUBE-") && !l.contains("KUBE-FIREWALL")).toList(), clean);
        assertEquals(foreign, foreignLines(clean));

        assertFalse(payloads.isEmpty());
    }

    /**
     * The kubelet's chains, rules and jumps, byte for byte, through the portals' first apply (which
     * removes the iptables mode's leftovers, mangle's canary among them) and --cleanup's path.
     */
    @Test
    void theKubeletsChainsSurviveThePortalsTheLeftoverRemovalAndCleanup() throws Exception {
        node.exec(KubeletChains.RULES, "iptables-restore", "--noflush");
        IptablesBackend iptablesMode = TestBackends.inNamespace(node, IpFamily.IPV4, IptablesConfig.defaults(), node.runner).build();
        var svc = Fixtures.clusterIPService("ns4", "svc4", "172.30.0.44", "p80", 80, "TCP");
        SyncResult synced = iptablesMode.sync(new TestSnapshots().add(svc)
                .add(Fixtures.slice("ns4", "s", "svc4", "p80", 80, "TCP", Ep.ready("10.180.0.4"))).snapshot());
        assertTrue(synced.ok(), synced.error());
        List<String> kubelet = KubeletChains.lines(save());
        assertEquals(10, kubelet.size(), kubelet.toString());

        PortalRules rules = new PortalRules(IpFamily.IPV4, checkedRunner(), ChainNames::isIptablesModeChain);
        rules.apply(List.of(new Portal(port("ns", "web", "http", Protocol.TCP, 80, 30080, List.of("172.30.0.10"),
                List.of(), List.of()), TCP_PROXY)), IpAddresses.parse(NODE_IP));
        String applied = save();
        assertFalse(applied.contains("KUBE-PROXY-CANARY") || applied.contains("KUBE-SVC-"), applied);
        assertTrue(applied.contains(":KUBE-PORTALS-CONTAINER"), applied);
        assertEquals(kubelet, KubeletChains.lines(applied), "the userspace mode's start changed the kubelet's chains");

        assertTrue(iptablesMode.cleanup().ok());
        String clean = save();
        assertEquals(kubelet, KubeletChains.lines(clean), "--cleanup changed the kubelet's chains");
        assertEquals(kubelet.size(), node.lines(clean).stream().filter(l -> l.contains("KUBE-")).count(), clean);
    }

    @Test
    void ipv6Portals() throws Exception {
        listen("TCP6-LISTEN:" + TCP6_PROXY + ",fork,reuseaddr", "tcp6-listener");
        awaitListening("-tln", TCP6_PROXY);
        PortalRules rules = new PortalRules(IpFamily.IPV6, checkedRunner(), ChainNames::isIptablesModeChain);
        List<Portal> portals = List.of(new Portal(port("ns", "web6", "", Protocol.TCP, 80, 30081,
                List.of("172.30.0.11", "fd00:30::10"), List.of(), List.of()), TCP6_PROXY));
        rules.apply(portals, IpAddresses.parse(NODE_IP6));
        String saved = node.save("ip6tables-save", "nat", "filter");
        assertTrue(saved.contains("-A KUBE-PORTALS-HOST -d fd00:30::10/128 -p tcp -m comment --comment \"ns/web6\" -m tcp"
                + " --dport 80 -j DNAT --to-destination [fd99::1]:40002\n"), saved);
        assertFalse(node.save("iptables-save", "nat").contains("KUBE-PORTALS"), "IPv4 tables untouched");

        assertEquals("tcp6-listener", ask(client, "TCP6:[fd00:30::10]:80,connect-timeout=5"), "client -> ClusterIP");
        assertEquals("tcp6-listener", ask(client, "TCP6:[" + NODE_IP6 + "]:30081,connect-timeout=5"), "client -> NodePort");
        assertEquals("tcp6-listener", ask(node, "TCP6:[fd00:30::10]:80,connect-timeout=5"), "node -> ClusterIP");

        rules.apply(portals, IpAddresses.parse(NODE_IP6));
        assertEquals(saved.replaceAll("\\[\\d+:\\d+\\]", ""),
                node.save("ip6tables-save", "nat", "filter").replaceAll("\\[\\d+:\\d+\\]", ""));

        IptablesBackend v6 = TestBackends.inNamespace(node, IpFamily.IPV6, IptablesConfig.defaults(), node.runner).build();
        assertTrue(v6.cleanup().ok());
        assertFalse(node.save("ip6tables-save", "nat", "filter", "mangle").contains("KUBE-"));
    }
}
