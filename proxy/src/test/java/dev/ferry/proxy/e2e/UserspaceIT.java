package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --proxy-mode=userspace} on the real kernel: iptables portal rules send ClusterIP,
 * NodePort and external IP traffic from pods, from outside and from the node itself to the
 * proxy's listeners, and the forwarder picks the endpoint: strict round robin, ClientIP
 * affinity, refused endpoints skipped, UDP answered from the Service address, and changes that
 * leave established connections alone.
 */
class UserspaceIT {
    static final String WEB_IP = NodeFixture.WEB_IP;
    static final Duration SERVED = Duration.ofSeconds(30);

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(3);

    private Topology topology;
    private Checks checks;

    @BeforeEach
    void names() {
        topology = fx.topology();
        checks = fx.checks();
    }

    private void startUserspace() {
        fx.startProxy("--proxy-mode=userspace");
    }

    /** Waits until {@code name} answers a connection from {@code from} to ip:port. */
    private void awaitAnswer(NetNs from, String ip, int port, String name) {
        Wait.until(name + " answering " + ip + ":" + port + " from " + from.name(), SERVED,
                () -> name.equals(Clients.tcp(from, ip, port).out().strip()), this::state);
    }

    /** Waits until any backend answers. */
    private void awaitServed(NetNs from, String ip, int port) {
        Wait.until("an answer from " + ip + ":" + port + " via " + from.name(), SERVED,
                () -> Clients.tcp(from, ip, port).out().strip().matches("b\\d"), this::state);
    }

    private String state() {
        return checks.state();
    }

    /** {@code count} consecutive connections, each answer's backend name ("" for none). */
    private static List<String> answers(NetNs from, String ip, int port, int count) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(Clients.tcp(from, ip, port).out().strip());
        }
        return out;
    }

    /** The answers cycle through exactly {@code names}, each once per round, in a fixed order. */
    private void assertStrictRoundRobin(List<String> answers, Set<String> names) {
        int n = names.size();
        assertEquals(names, new HashSet<>(answers.subList(0, n)), () -> "first round " + answers + "\n" + state());
        for (int i = n; i < answers.size(); i++) {
            assertEquals(answers.get(i - n), answers.get(i), "answer " + i + " breaks the rotation: " + answers);
        }
    }

    @Test
    void podsAndTheNodeGetStrictRoundRobinThroughTheClusterIp() {
        fx.web("b1", "b2", "b3");
        startUserspace();
        awaitServed(topology.pod(), WEB_IP, 80);
        assertStrictRoundRobin(answers(topology.pod(), WEB_IP, 80, 9), Set.of("b1", "b2", "b3"));
        // the node's own connections go through the host portal (DNAT in nat OUTPUT)
        assertStrictRoundRobin(answers(topology.node(), WEB_IP, 80, 9), Set.of("b1", "b2", "b3"));
        String save = checks.save();
        assertTrue(save.contains("-j KUBE-PORTALS-CONTAINER") && save.contains("-j KUBE-PORTALS-HOST"), save);
        assertFalse(save.contains("KUBE-SVC-"), () -> "iptables mode chains in userspace mode:\n" + save);
    }

    @Test
    void nodePortAndExternalIpsReachTheForwarder() {
        fx.publish("web-service", new Manifests.Svc("web").type("NodePort").clusterIps(WEB_IP)
                .port(Manifests.HTTP, 30080).externalIps(Topology.NODE_EXT_IP).yaml());
        fx.publish("web-slice", Manifests.slice("web", "web-1", List.of(Manifests.HTTP), Manifests.ips("b1", "b2")));
        startUserspace();
        awaitServed(topology.ext(), Topology.NODE_EXT_IP, 30080);
        checks.assertTcpReachesAll(topology.ext(), Topology.NODE_EXT_IP, 30080, Set.of("b1", "b2"));
        checks.assertTcpReachesAll(topology.node(), "127.0.0.1", 30080, Set.of("b1", "b2"));
        checks.assertTcpReachesAll(topology.ext(), Topology.NODE_EXT_IP, 80, Set.of("b1", "b2"));
    }

    @Test
    void clientIpAffinityPinsEachClient() {
        fx.publish("web-service", new Manifests.Svc("web").clusterIps(WEB_IP).port(Manifests.HTTP)
                .clientIpAffinity(600).yaml());
        fx.publish("web-slice", Manifests.slice("web", "web-1", List.of(Manifests.HTTP), Manifests.ips("b1", "b2", "b3")));
        startUserspace();
        awaitServed(topology.pod(), WEB_IP, 80);
        List<String> fromPod = answers(topology.pod(), WEB_IP, 80, 10);
        assertEquals(1, new HashSet<>(fromPod).size(), () -> "pod not pinned: " + fromPod);
        List<String> fromNode = answers(topology.node(), WEB_IP, 80, 10);
        assertEquals(1, new HashSet<>(fromNode).size(), () -> "node not pinned: " + fromNode);
    }

    @Test
    void refusedEndpointIsSkipped() {
        // the pod's address has nothing listening on the target port: connections there are refused
        fx.publish("web-service", Manifests.service("web", WEB_IP, List.of(Manifests.HTTP)));
        fx.publish("web-slice", Manifests.slice("web", "web-1", List.of(Manifests.HTTP),
                List.of(Topology.backendIp("b1"), Topology.backendIp("b2"), Topology.POD_IP)));
        startUserspace();
        awaitServed(topology.node(), WEB_IP, 80);
        List<String> got = answers(topology.node(), WEB_IP, 80, 12);
        assertEquals(Set.of("b1", "b2"), new HashSet<>(got), () -> "every connection answered by b1 or b2: " + got);
    }

    @Test
    void udpRequestsGetRepliesFromTheServiceAddress() {
        fx.web("b1", "b2");
        startUserspace();
        Wait.until("a UDP answer from " + WEB_IP + ":53", SERVED,
                () -> Clients.udp(topology.pod(), WEB_IP, 53).out().strip().matches("b\\d"), this::state);
        // socat's UDP client is connected: it only accepts a reply whose source is WEB_IP:53
        checks.assertUdpReachesAll(topology.pod(), WEB_IP, 53, Set.of("b1", "b2"));
        checks.assertUdpReachesAll(topology.node(), WEB_IP, 53, Set.of("b1", "b2"));
    }

    @Test
    void endpointChangeLeavesAnOpenConnectionWorking() {
        fx.web("b1");
        startUserspace();
        awaitAnswer(topology.pod(), WEB_IP, 80, "b1");
        try (Clients.EchoSession session = new Clients.EchoSession(topology.pod(), WEB_IP, 7)) {
            assertEquals("one", session.exchange("one", Duration.ofSeconds(10)), session::describe);
            fx.web("b2"); // b1, which holds the session, is no longer an endpoint
            int lines = 0;
            long deadline = System.nanoTime() + SERVED.toNanos();
            while (!"b2".equals(Clients.tcp(topology.pod(), WEB_IP, 80).out().strip())) {
                String line = "during-" + lines++;
                assertEquals(line, session.exchange(line, Duration.ofSeconds(10)), session::describe);
                assertTrue(System.nanoTime() < deadline, () -> "new connections never reached b2\n" + state());
            }
            assertEquals("after", session.exchange("after", Duration.ofSeconds(10)), session::describe);
        }
    }

    /**
     * A bulk echo through the ClusterIP: 32 MiB out and back in one connection, far past the point where the
     * forwarder moves it from the JVM to splice(2); what comes back must be byte for byte what went out.
     */
    @Test
    void bulkEchoThroughThePortalArrivesIntact() throws Exception {
        fx.web("b1");
        startUserspace();
        awaitAnswer(topology.pod(), WEB_IP, 80, "b1");
        Path dir = Files.createTempDirectory("ferry-bulk");
        try {
            Path sent = dir.resolve("sent");
            Path back = dir.resolve("back");
            byte[] data = new byte[32 << 20];
            new Random(7).nextBytes(data);
            Files.write(sent, data);
            // socat reads the file into the connection, half-closes at its end, and writes what comes back to
            // the other file until the echo's EOF (-t: how long it waits for that after its own EOF)
            Proc.Result r = topology.pod().run(Duration.ofSeconds(60), List.of("socat", "-t", "30",
                    "OPEN:" + sent + ",rdonly!!CREATE:" + back, "TCP4:" + WEB_IP + ":7"));
            assertEquals(0, r.exit(), () -> "socat: " + r + "\n" + state());
            assertEquals(data.length, Files.size(back), "bytes echoed back");
            assertTrue(Arrays.equals(data, Files.readAllBytes(back)), "the echo differs from what was sent");
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    @Test
    void removedServiceClosesItsConnections() {
        fx.web("b1");
        startUserspace();
        awaitAnswer(topology.pod(), WEB_IP, 80, "b1");
        try (Clients.EchoSession session = new Clients.EchoSession(topology.pod(), WEB_IP, 7)) {
            assertEquals("one", session.exchange("one", Duration.ofSeconds(10)), session::describe);
            fx.manifests().delete("web-service.yaml");
            Wait.until("the session closed by the proxy", SERVED, () -> !session.proc().alive(),
                    () -> session.describe() + "\n" + state());
        }
        Wait.until("no portal left for " + WEB_IP, SERVED, () -> !checks.save().contains("-d " + WEB_IP + "/32"), this::state);
    }

    @Test
    void portChangeMovesThePortal() {
        fx.web("b1");
        startUserspace();
        awaitAnswer(topology.pod(), WEB_IP, 80, "b1");
        fx.publish("web-service", Manifests.service("web", WEB_IP,
                List.of(new Manifests.Port("http", 81, Topology.NAME_TCP_PORT, "TCP"), Manifests.DNS, Manifests.ECHO)));
        awaitAnswer(topology.pod(), WEB_IP, 81, "b1");
        Proc.Result old = Clients.tcp(topology.pod(), WEB_IP, 80);
        assertFalse(old.out().strip().matches("b\\d"), () -> "port 80 still served: " + old.describe());
    }
}
