package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A manifests directory with a malformed file and invalid objects next to good ones: the good
 * Service works over a real connection, each bad one is reported once (file and field), nothing of
 * the bad ones is programmed, and the proxy keeps running and keeps following changes.
 */
class BadInputIT {
    static final String WEB_IP = NodeFixture.WEB_IP;

    /** file name → the field its report must name (lower case). */
    static final Map<String, String> BAD_FILES = Map.of(
            "broken.yaml", "",
            "bad-ip.yaml", "clusterip",
            "bad-port.yaml", "port",
            "bad-protocol.yaml", "protocol",
            "no-name.yaml", "name",
            "bad-endpoint.yaml", "address");

    private static final java.util.regex.Pattern DEBUG = java.util.regex.Pattern.compile("\\b(DEBUG|TRACE)\\b");

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(2);

    @Test
    void goodObjectsAreServedAndEachBadOneIsReportedOnce() {
        Topology topology = fx.topology();
        Manifests manifests = fx.manifests();
        Checks checks = fx.checks();
        manifests.write("good.yaml", Manifests.service("web", WEB_IP, Manifests.ALL_PORTS) + "---\n"
                + Manifests.slice("web", "web-1", Manifests.ALL_PORTS, Manifests.ips("b1")));
        manifests.write("broken.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: broken\nspec: [ports:\n");
        manifests.write("bad-ip.yaml", Manifests.service("badip", "10.96.0.300", List.of(Manifests.HTTP)));
        manifests.write("bad-port.yaml", Manifests.service("badport", "10.96.0.22", List.of(new Manifests.Port("http", 70000, 8080, "TCP"))));
        manifests.write("bad-protocol.yaml", Manifests.service("badproto", "10.96.0.23", List.of(new Manifests.Port("http", 80, 8080, "HTTP"))));
        manifests.write("no-name.yaml", Manifests.service("noname", "10.96.0.24", List.of(Manifests.HTTP))
                .replace("  name: noname\n", ""));
        // a second slice for the good Service whose only endpoint has an invalid address
        manifests.write("bad-endpoint.yaml", Manifests.slice("web", "web-2", Manifests.ALL_PORTS, List.of("10.244.0.300")));

        Proc proxy = fx.startProxy();
        checks.awaitServed(WEB_IP, 80);
        checks.assertTcpOnly(topology.pod(), WEB_IP, 80, Set.of("b1"), 5);
        checks.assertUdpReachesAll(topology.pod(), WEB_IP, 53, Set.of("b1"));

        // a later change to a good file is still followed, and must not repeat the reports
        manifests.write("good.yaml", Manifests.service("web", WEB_IP, Manifests.ALL_PORTS) + "---\n"
                + Manifests.slice("web", "web-1", Manifests.ALL_PORTS, Manifests.ips("b1", "b2")));
        checks.awaitTcpAnswer(topology.pod(), WEB_IP, 80, "b2");
        checks.assertTcpReachesAll(topology.pod(), WEB_IP, 80, Set.of("b1", "b2"));

        String save = checks.save();
        for (String ip : List.of("10.96.0.22", "10.96.0.23", "10.96.0.24")) {
            assertFalse(Rules.kube(save).stream().anyMatch(l -> l.contains(ip + "/32")),
                    () -> "an invalid Service at " + ip + " was programmed:\n" + checks.state());
        }
        assertFalse(save.contains("10.244.0.300"), () -> "an invalid endpoint address was programmed:\n" + checks.state());

        List<String> log = ProxyProcess.logEntries(proxy.errLines());
        StringBuilder problems = new StringBuilder();
        BAD_FILES.forEach((file, field) -> {
            // a report is a line at INFO or above; -v 2 also traces each file read at DEBUG
            List<String> mentions = log.stream().filter(l -> l.contains(file) && !DEBUG.matcher(l).find()).toList();
            if (mentions.size() != 1) {
                problems.append("\n").append(file).append(": expected exactly one report, saw ").append(mentions.size())
                        .append(mentions.isEmpty() ? "" : ":\n    " + String.join("\n    ", mentions));
            } else if (!mentions.get(0).toLowerCase(Locale.ROOT).contains(field)) {
                problems.append("\n").append(file).append(": the report does not name the field '").append(field)
                        .append("': ").append(mentions.get(0));
            }
        });
        assertTrue(problems.isEmpty(), () -> "bad input reports:" + problems + "\n" + ProxyProcess.logTail(proxy));
        List<String> goodMentions = log.stream().filter(l -> l.contains("good.yaml")
                && l.toLowerCase(Locale.ROOT).matches(".*(error|invalid|skip|fail).*")).toList();
        assertEquals(List.of(), goodMentions, "the good file was reported as bad");
        assertTrue(proxy.alive(), () -> "the proxy exited\n" + ProxyProcess.logTail(proxy));
    }
}
