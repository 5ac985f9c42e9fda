package dev.ferry.proxy;

import dev.ferry.core.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy started as a new user starts it: with no arguments and no cluster, and against an
 * API server that does not answer. Each run is a process of its own, with an environment of
 * our choosing (no KUBECONFIG, no KUBERNETES_SERVICE_HOST, an empty home).
 */
class NoApiServerTest {

    @TempDir
    Path dir;

    private Map<String, String> bareEnvironment() {
        return Map.of("HOME", dir.toString(), "PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    }

    @Test
    void withNothingToWatchItFailsAtOnceInOneLineSayingWhatToPass() throws Exception {
        try (ForkedMain proxy = ForkedMain.start(dir, bareEnvironment(), List.of(), List.of())) {
            assertEquals(1, proxy.exitStatus(Duration.ofSeconds(30)), String.join("\n", proxy.errLines()));
            List<String> err = proxy.errLines();
            assertEquals(1, err.size(), "one line: " + err);
            assertTrue(err.get(0).startsWith("error: no API server to watch: pass --kubeconfig FILE or --master URL"), err.get(0));
            assertTrue(err.get(0).contains("--manifests DIR") && err.get(0).contains("--config"), err.get(0));
        }
    }

    @Test
    void anApiServerThatDoesNotAnswerIsOneLinePerAttemptWithoutStackTraces() throws Exception {
        List<String> err = attemptsAgainstAClosedPort(List.of());
        assertFalse(err.stream().anyMatch(l -> l.startsWith("\tat ") || l.startsWith("Caused by")),
                "no stack traces at the default verbosity: " + err);
    }

    @Test
    void atVerbosityFourTheStackIsThere() throws Exception {
        List<String> err = attemptsAgainstAClosedPort(List.of("-v=4"));
        assertTrue(err.stream().anyMatch(l -> l.startsWith("\tat ")), "a stack trace at -v=4: " + err);
    }

    /** Runs until the Services informer failed twice against a port nobody listens on; what the proxy logged. */
    private List<String> attemptsAgainstAClosedPort(List<String> extra) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: connections are refused
        }
        String attempt = "watching Services at http://127.0.0.1:" + port + "/ failed: ConnectException";
        List<String> args = new java.util.ArrayList<>(List.of("--master=http://127.0.0.1:" + port, "--dry-run",
                "--hostname-override=n1"));
        args.addAll(extra);
        try (ForkedMain proxy = ForkedMain.start(dir, bareEnvironment(), List.of(), args)) {
            Poll.until("two failed attempts logged", Duration.ofSeconds(30),
                    () -> proxy.errLines().stream().filter(l -> l.contains(attempt)).count() >= 2,
                    () -> String.join("\n", proxy.errLines()));
            List<String> err = proxy.errLines();
            assertTrue(err.stream().filter(l -> l.contains(attempt)).allMatch(l -> l.endsWith("; retrying")), err.toString());
            return err;
        }
    }
}
