package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy SIGKILLed while its iptables-restore is running (enough Services that a sync takes a
 * while, killed the moment the restore child appears) and started again converges to the rules a
 * clean run produces, and a TCP connection made through a Service before the kill still carries
 * data after the restart.
 */
class KillRestartIT {
    static final String WEB_IP = NodeFixture.WEB_IP;
    static final int MANY = 1500;

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(3);

    private Topology topology;
    private ManifestDir dir;
    private Checks checks;

    @BeforeEach
    void names() {
        topology = fx.topology();
        dir = fx.dir();
        checks = fx.checks();
    }

    /** Services s0…s{MANY-1} at 10.100.x.y, every one with the given backends, in one multi-document file. */
    private static String many(String... backends) {
        return IntStream.range(0, MANY).mapToObj(i -> {
            String name = "s" + i;
            String ip = "10.100." + (i / 250) + "." + (i % 250 + 1);
            return Manifests.service(name, ip, List.of(Manifests.HTTP)) + "---\n"
                    + Manifests.slice(name, name + "-1", List.of(Manifests.HTTP), Manifests.ips(backends));
        }).collect(Collectors.joining("---\n"));
    }

    /** A running iptables-restore under the proxy (argv[0] from /proc: the binary is xtables-nft-multi). */
    private static Optional<ProcessHandle> restoreChild(Proc p) {
        return p.process().toHandle().descendants().filter(h -> argv0(h).endsWith("iptables-restore")).findFirst();
    }

    private static String argv0(ProcessHandle h) {
        try {
            byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline"));
            int end = 0;
            while (end < cmdline.length && cmdline[end] != 0) {
                end++;
            }
            return new String(cmdline, 0, end, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return ""; // already gone
        }
    }

    @Test
    void killedInTheMiddleOfASyncAndRestartedConvergesAndKeepsConnections() {
        dir.manifests().write("many.yaml", many("b1"));
        fx.web("b1", "b2");
        fx.startProxy();
        checks.awaitServed(WEB_IP, 7);
        checks.awaitServed("10.100." + ((MANY - 1) / 250) + "." + ((MANY - 1) % 250 + 1), 80);

        try (var session = new Clients.EchoSession(topology.pod(), WEB_IP, Manifests.ECHO.port())) {
            assertEquals("before the kill", session.exchange("before the kill", Duration.ofSeconds(5)), session::describe);

            // every Service changes, so the next sync rewrites everything; kill it mid-restore
            dir.manifests().write("many.yaml", many("b2", "b3"));
            fx.web("b1", "b2", "b3");
            Proc victim = fx.proxy();
            ProcessHandle restore = Wait.until("an iptables-restore child of the proxy after the change",
                    Checks.PROGRAMMED, () -> restoreChild(victim), Optional::isPresent,
                    x -> ProxyProcess.logTail(victim)).orElseThrow();
            victim.kill();
            assertTrue(!victim.alive(), "the proxy survived SIGKILL");
            restore.onExit().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();

            fx.startProxy();
            NetNs reference = topology.extraNamespace("ref");
            Proc.Result once = ProxyProcess.run(reference, ProxyProcess.fileArgs(dir.path(), "--once"));
            assertEquals(0, once.exit(), () -> "reference run with --once failed: " + once.describe());
            List<String> expected = Rules.kube(reference.iptablesSave());
            assertTrue(expected.stream().anyMatch(l -> l.contains("--to-destination " + Checks.ipPort("b3", 8080))),
                    () -> "the reference run does not have the new endpoints:\n" + String.join("\n", expected));
            Wait.until("the restarted proxy's rules equal a clean --once run's", Duration.ofSeconds(60),
                    () -> Rules.kube(checks.save()), expected::equals,
                    actual -> diff(expected, actual) + "\n" + ProxyProcess.logTail(fx.proxy()));

            assertEquals("after the restart", session.exchange("after the restart", Duration.ofSeconds(5)),
                    () -> "the connection made before the kill no longer carries data: " + session.describe());
        }
        checks.assertTcpReachesAll(topology.pod(), WEB_IP, 80, Set.of("b1", "b2", "b3"));
        checks.assertTcpReachesAll(topology.pod(), "10.100.0.1", 80, Set.of("b2", "b3"));
    }

    private static String diff(List<String> expected, List<String> actual) {
        List<String> missing = expected.stream().filter(l -> !actual.contains(l)).limit(20).toList();
        List<String> extra = actual.stream().filter(l -> !expected.contains(l)).limit(20).toList();
        return "expected " + expected.size() + " KUBE-* lines, saw " + actual.size()
                + "\nmissing (first 20):\n  " + String.join("\n  ", missing)
                + "\nunexpected (first 20):\n  " + String.join("\n  ", extra);
    }
}
