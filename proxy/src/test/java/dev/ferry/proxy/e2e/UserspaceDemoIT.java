package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
 * The README's userspace demo, run as it is written there but as user {@code nobody} (no root,
 * so no iptables) in a namespace of its own: the demo backends, the proxy on
 * examples/userspace-demo, and curl answered on the demo Service's address and its NodePort.
 */
class UserspaceDemoIT {
    private static final String NOBODY = "65534";

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

    @Test
    void readmeDemoAnswersCurlWithoutRoot() {
        Path jar = ProxyProcess.jar().toAbsolutePath();
        Path repo = jar.getParent().getParent().getParent();
        Path manifests = repo.resolve("examples/userspace-demo");
        assertTrue(Files.isDirectory(manifests), manifests + " missing");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

        topology.track(ns.start(asNobody(List.of(java, "-cp", jar.toString(), "dev.ferry.proxy.DemoBackends", "9001", "9002"))));
        Proc proxy = topology.track(ns.start(asNobody(List.of(java, "-jar", jar.toString(), "--proxy-mode=userspace",
                "--manifests", manifests.toString()))));

        Wait.until("curl answered on 127.0.0.10:8080", Duration.ofSeconds(30),
                () -> curl("http://127.0.0.10:8080/").startsWith("hello from backend"),
                () -> curl("http://127.0.0.10:8080/") + "\n" + ProxyProcess.logTail(proxy));
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            seen.add(curl("http://127.0.0.10:8080/").strip());
        }
        assertEquals(Set.of("hello from backend 9001", "hello from backend 9002"), seen, () -> ProxyProcess.logTail(proxy));
        assertTrue(curl("http://127.0.0.1:30080/").startsWith("hello from backend"), () -> ProxyProcess.logTail(proxy));
        String log = String.join("\n", proxy.errLines());
        assertTrue(log.contains("without iptables portal rules"), () -> "the log should say how it serves:\n" + log);
    }

    private String curl(String url) {
        return ns.run(Duration.ofSeconds(10), asNobody(List.of("curl", "-s", "--max-time", "3", url))).out();
    }
}
