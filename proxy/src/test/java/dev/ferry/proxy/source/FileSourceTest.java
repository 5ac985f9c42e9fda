package dev.ferry.proxy.source;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.core.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class FileSourceTest {

    @TempDir
    Path dir;

    private final TrackerProbe probe = new TrackerProbe("node-1");
    private FileSource source;

    @AfterEach
    void stop() {
        if (source != null) {
            source.close();
        }
    }

    private void start() throws InterruptedException {
        source = new FileSource(dir, probe.tracker, probe.inputProblems, TrackerProbe.shortInterval());
        source.start();
        assertTrue(source.awaitSynced(Duration.ofSeconds(10)), "synced after the first read");
    }

    private void write(String name, String content) throws IOException {
        // Write next to it and rename, as an editor or a ConfigMap update does: never half a file.
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public static String service(String name, String clusterIP, int port, String protocol) {
        return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: ns}\n"
                + "spec:\n  clusterIP: " + clusterIP + "\n  ports:\n  - {name: p, port: " + port + ", protocol: " + protocol + "}\n";
    }

    static String slice(String name, String service, int port, String... ips) {
        StringBuilder b = new StringBuilder("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name
                + "\n  namespace: ns\n  labels: {kubernetes.io/service-name: " + service + "}\naddressType: IPv4\n"
                + "ports: [{name: p, port: " + port + ", protocol: TCP}]\nendpoints:\n");
        for (String ip : ips) {
            b.append("- {addresses: [").append(ip).append("], conditions: {ready: true}}\n");
        }
        return b.toString();
    }

    @Test
    void readsTheExampleManifestsBeforeSayingSynced() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("../examples/manifests"))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        start();
        Map<String, List<String>> services = probe.services();
        assertEquals(Map.of(
                "default/web:http", List.of("10.244.1.10:8080", "10.244.2.10:8080"),
                "kube-system/dns:dns", List.of("10.244.1.53:5353"),
                "default/pending", List.of()), services);
        assertEquals("zone-a", probe.nodeLabels().get("topology.kubernetes.io/zone"));
        assertEquals(List.of(), probe.problems, "the examples are valid");
    }

    @Test
    void noticesAddedChangedAndRemovedFiles() throws Exception {
        start();
        assertEquals(Map.of(), probe.services());

        write("a.yaml", service("a", "10.96.0.1", 80, "TCP") + "---\n" + slice("a-1", "a", 8080, "10.1.0.1"));
        probe.awaitServices("the added file", s -> List.of("10.1.0.1:8080").equals(s.get("ns/a:p")));

        write("a.yaml", service("a", "10.96.0.1", 80, "TCP") + "---\n" + slice("a-1", "a", 8080, "10.1.0.1", "10.1.0.2"));
        probe.awaitServices("the changed endpoints", s -> List.of("10.1.0.1:8080", "10.1.0.2:8080").equals(s.get("ns/a:p")));

        write("b.json", "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"b\",\"namespace\":\"ns\"},"
                + "\"spec\":{\"clusterIP\":\"10.96.0.2\",\"ports\":[{\"name\":\"p\",\"port\":53,\"protocol\":\"UDP\"}]}}");
        probe.awaitServices("the JSON file", s -> s.containsKey("ns/b:p") && s.containsKey("ns/a:p"));

        Files.delete(dir.resolve("a.yaml"));
        probe.awaitServices("the removed file's objects gone", s -> s.keySet().equals(java.util.Set.of("ns/b:p")));

        write("node.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: node-1, labels: {topology.kubernetes.io/zone: z9}}\n");
        Poll.until("the node's labels", () -> "z9".equals(probe.nodeLabels().get("topology.kubernetes.io/zone")));
        assertEquals(List.of(), probe.problems);
    }

    @Test
    void reportsEachBadFileAndObjectOnceWithItsFileAndKeepsTheGoodOnes() throws Exception {
        write("good.yaml", service("good", "10.96.0.1", 80, "TCP") + "---\n" + slice("good-1", "good", 8080, "10.1.0.1"));
        write("broken.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x\nspec: [\n");
        write("mixed.yaml", service("fine", "10.96.0.3", 81, "TCP") + "---\n" + service("badport", "10.96.0.4", 70000, "TCP")
                + "---\n" + service("badproto", "10.96.0.5", 82, "ICMP")
                + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
                + "---\n" + slice("badip-1", "fine", 8080, "10.1.0.999"));
        write("types.json", "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"t\"},"
                + "\"spec\":{\"ports\":[{\"port\":\"eighty\"}]}}");
        List<String> summary = summaryOf(this::start);
        assertEquals(List.of("read 4 manifest file(s) in " + dir + ": 8 object(s) read: 3 accepted, 4 rejected (reported above),"
                + " 1 of other kinds ignored; 1 file(s) do not parse (reported above)"), summary);

        Map<String, List<String>> services = probe.services();
        assertEquals(Map.of("ns/good:p", List.of("10.1.0.1:8080"), "ns/fine:p", List.of()), services);

        List<String> reports = probe.problems.stream().map(Object::toString).sorted().toList();
        assertEquals(6, reports.size(), "one report per bad thing: " + reports);
        assertReported(reports, dir.resolve("broken.yaml") + ":", "cannot parse");
        assertTrue(reports.stream().anyMatch(r -> r.matches(".*broken\\.yaml:\\d+:\\d+: cannot parse.*")),
                "line and column of the syntax error: " + reports);
        assertReported(reports, dir.resolve("mixed.yaml") + ": Service ns/badport: spec.ports[0].port", "");
        assertReported(reports, dir.resolve("mixed.yaml") + ": Service ns/badproto: spec.ports[0].protocol", "");
        assertReported(reports, dir.resolve("mixed.yaml") + ": document 4 (ConfigMap cm)", "not read here");
        assertReported(reports, dir.resolve("mixed.yaml") + ": EndpointSlice ns/badip-1: endpoints[0].addresses[0]", "");
        assertReported(reports, dir.resolve("types.json") + ": Service default/t: spec.ports[0].port",
                "expected an integer, got \"eighty\"");

        // Later scans do not report them again: add a file and wait until it is read.
        write("later.yaml", service("later", "10.96.0.9", 80, "TCP"));
        probe.awaitServices("the later file", s -> s.containsKey("ns/later:p"));
        assertEquals(6, probe.problems.size(), "nothing reported twice: " + probe.problems);

        // A bad object whose content changes is reported again, once.
        write("mixed.yaml", service("fine", "10.96.0.3", 81, "TCP") + "---\n" + service("badport", "10.96.0.4", 70001, "TCP")
                + "---\n" + service("badproto", "10.96.0.5", 82, "ICMP")
                + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
                + "---\n" + slice("badip-1", "fine", 8080, "10.1.0.999"));
        probe.awaitProblems("the changed bad port reported", p -> p.size() > 6);
        write("later2.yaml", service("later2", "10.96.0.8", 80, "TCP"));
        probe.awaitServices("another later file", s -> s.containsKey("ns/later2:p"));
        List<InputProblems.Problem> after = probe.problems.subList(6, probe.problems.size());
        // The file was parsed again, so its file-level reports (the ConfigMap) repeat; the unchanged
        // objects the core validates (badproto, badip-1) do not.
        assertTrue(after.stream().anyMatch(p -> String.valueOf(p).contains("70001")), "new content reported: " + after);
        assertFalse(after.stream().anyMatch(p -> String.valueOf(p).contains("badproto")), "unchanged object not again: " + after);
        assertFalse(after.stream().anyMatch(p -> String.valueOf(p).contains("badip-1")), "unchanged object not again: " + after);
    }

    @Test
    void aFileThatStopsParsingKeepsItsObjectsUntilItParsesAgain() throws Exception {
        write("a.yaml", service("a", "10.96.0.1", 80, "TCP"));
        start();
        assertTrue(probe.services().containsKey("ns/a:p"));

        write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a\n");
        probe.awaitProblems("the syntax error", p -> p.size() == 1);
        write("marker.yaml", service("m", "10.96.0.2", 80, "TCP"));
        probe.awaitServices("a later scan", s -> s.containsKey("ns/m:p"));
        assertTrue(probe.services().containsKey("ns/a:p"), "kept while the file is broken");

        write("a.yaml", service("a2", "10.96.0.1", 80, "TCP"));
        probe.awaitServices("the repaired file", s -> s.containsKey("ns/a2:p") && !s.containsKey("ns/a:p"));
        assertEquals(1, probe.problems.size(), String.valueOf(probe.problems));
    }

    @Test
    void anObjectDefinedInTwoFilesIsTakenFromTheFirstAndReportedOnce() throws Exception {
        write("1.yaml", service("a", "10.96.0.1", 80, "TCP"));
        write("2.yaml", service("a", "10.96.0.1", 99, "TCP"));
        assertEquals(List.of("read 2 manifest file(s) in " + dir + ": 2 object(s) read: 1 accepted, 1 rejected (reported above)"),
                summaryOf(this::start));
        assertEquals(Map.of("ns/a:p", List.of()), probe.services());
        assertEquals(80, probe.tracker.snapshot().servicePorts().iterator().next().port().port());
        assertEquals(1, probe.problems.size());
        assertTrue(probe.problems.get(0).toString().contains("also defined in " + dir.resolve("1.yaml")), probe.problems.toString());

        write("3.yaml", service("c", "10.96.0.3", 80, "TCP"));
        probe.awaitServices("a later scan", s -> s.containsKey("ns/c:p"));
        assertEquals(1, probe.problems.size(), "not reported again: " + probe.problems);

        Files.delete(dir.resolve("1.yaml"));
        Poll.until("the second definition takes over", () -> probe.tracker.snapshot().servicePortMap().values().stream()
                .anyMatch(s -> s.port().port() == 99));
    }

    interface Step {
        void run() throws Exception;
    }

    /** What the source logs at info while {@code step} runs: its summary of the first read. */
    private static List<String> summaryOf(Step step) throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(FileSource.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            step.run();
        } finally {
            logger.detachAppender(logs);
        }
        return logs.list.stream().filter(e -> e.getLevel() == Level.INFO).map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static void assertReported(List<String> reports, String prefix, String contains) {
        assertTrue(reports.stream().anyMatch(r -> r.startsWith(prefix) && r.contains(contains)),
                "expected a report starting with \"" + prefix + "\" containing \"" + contains + "\" in " + reports);
    }
}
