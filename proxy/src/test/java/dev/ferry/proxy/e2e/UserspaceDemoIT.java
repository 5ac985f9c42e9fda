package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's userspace demo, run as it is written there: its {@code sh} block is read from
 * README.md and pasted at once into {@code sh}, as user {@code nobody} (no root, so no
 * iptables) in a namespace of its own, from the repository's root. Its two curls must answer
 * although they start before the proxy listens; then the Service answers round robin.
 */
class UserspaceDemoIT {
    private static final String NOBODY = "65534";
    static final String SECTION = "### Try the userspace mode without root";
    private static final String BLOCK_DONE = "block-done";

    private Topology topology;
    private NetNs ns;

    @BeforeEach
    void namespace() {
        Privileged.assumeRootWithTools(); // root only to create the namespace and become nobody in it
        topology = Topology.create(0);
        ns = topology.extraNamespace("demo");
    }

    @AfterEach
    void cleanUp() {
        if (topology != null) {
            topology.close();
        }
    }

    /** argv run as nobody, as a user without privileges would run it. */
    private static List<String> asNobody(List<String> argv) {
        List<String> out = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "--"));
        out.addAll(argv);
        return out;
    }

    /** The first {@code sh} block after {@link #SECTION} in the README. */
    static String demoBlock(Path readme) throws IOException {
        List<String> lines = Files.readAllLines(readme, StandardCharsets.UTF_8);
        int at = lines.indexOf(SECTION);
        assertTrue(at >= 0, "README has no section \"" + SECTION + "\"");
        int start = lines.subList(at, lines.size()).indexOf("```sh") + at + 1;
        int end = lines.subList(start, lines.size()).indexOf("```") + start;
        assertTrue(start > at && end > start, "no ```sh block under " + SECTION);
        return String.join("\n", lines.subList(start, end)) + "\n";
    }

    @Test
    void readmeDemoPastedAtOnceAnswersCurlWithoutRoot() throws IOException {
        Path jar = ProxyProcess.jar().toAbsolutePath();
        Path repo = jar.getParent().getParent().getParent();
        String block = demoBlock(repo.resolve("README.md"));
        assertEquals(2, block.lines().filter(l -> l.startsWith("curl ")).count(), block);
        String javaBin = Path.of(System.getProperty("java.home"), "bin").toString();
        // the block as pasted into a shell in the clone; "wait" keeps the shell (and so the demo) until the test ends
        String script = "cd '" + repo + "' && PATH='" + javaBin + "':$PATH && export PATH\n" + block
                + "echo " + BLOCK_DONE + "\nwait\n";
        Proc demo = topology.track(ns.start(asNobody(List.of("sh", "-c", script))));

        Wait.until("the block's commands done", Duration.ofSeconds(90), () -> demo.outLines().contains(BLOCK_DONE),
                () -> String.join("\n", demo.outLines()) + "\n" + ProxyProcess.logTail(demo));
        assertEquals(2, demo.outLines().stream().filter(l -> l.startsWith("hello from backend")).count(),
                () -> String.join("\n", demo.outLines()) + "\n" + ProxyProcess.logTail(demo));
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            seen.add(curl("http://127.0.0.10:8080/").strip());
        }
        assertEquals(Set.of("hello from backend 9001", "hello from backend 9002"), seen, () -> ProxyProcess.logTail(demo));
        String log = String.join("\n", demo.errLines());
        assertTrue(log.contains("without iptables portal rules"), () -> "the log should say how it serves:\n" + log);
    }

    private String curl(String url) {
        return ns.run(Duration.ofSeconds(10), asNobody(List.of("curl", "-s", "--max-time", "3", url))).out();
    }
}
