package dev.ferry.ipvs.link;

import dev.ferry.ipvs.uml.UmlGuest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * kube-ipvs0 through our rtnetlink client on a kernel with dummy links (user-mode-linux; this machine's kernel has
 * none): created once and left down as upstream leaves it, kept at exactly the service addresses (/32, /128) with
 * stale ones that iproute2 put there removed, and deleted. iproute2 checks every step.
 */
class KubeIpvs0IT {

    private static final Duration BOOT = Duration.ofSeconds(120);

    @BeforeEach
    void needsRoot() {
        String why = UmlGuest.unavailability();
        assumeTrue(why == null, why);
    }

    @Test
    void createsKeepsExactlyTheServiceAddressesAndDeletesKubeIpvs0() {
        String link = KubeIpvs0Probe.LINK;
        UmlGuest.Result r = UmlGuest.run(BOOT, List.of(
                probe("ensure"),
                List.of("ip", "addr", "add", "10.96.0.99/32", "dev", link),
                List.of("ip", "addr", "add", "10.96.0.10/24", "dev", link),
                List.of("ip", "addr", "add", "fd00:96::99/128", "dev", link),
                probe("sync", "10.96.0.10", "10.96.0.11", "fd00:96::10"),
                probe("sync", "10.96.0.10", "10.96.0.11", "fd00:96::10"),
                List.of("echo", "== addresses"),
                List.of("ip", "-br", "addr", "show", link),
                List.of("echo", "== details"),
                List.of("ip", "-d", "link", "show", link),
                probe("delete"),
                List.of("echo", "== links"),
                List.of("ip", "-br", "link", "show")));
        String out = r.output();
        assertTrue(r.ok(), out);

        assertTrue(out.contains("before: absent\n"), out);
        String indexes = line(out, "ensureDummy: ");
        String[] parts = indexes.split(" then ");
        assertEquals(parts[0], parts[1], "the second ensureDummy finds the first one's link: " + indexes);
        assertTrue(line(out, "link: ").matches("Link\\[index=" + parts[0] + ", name=kube-ipvs0, kind=dummy, up=false]"), out);

        assertTrue(out.contains("sync: added [10.96.0.10, 10.96.0.11, fd00:96::10] "
                + "removed [10.96.0.10, 10.96.0.99, fd00:96::99]\n"), out);
        assertTrue(out.contains("sync: added [] removed []\n"), "a second sync changes nothing\n" + out);

        List<String> brief = words(after(out, "== addresses"));
        assertEquals("kube-ipvs0", brief.get(0), out);
        assertEquals("DOWN", brief.get(1), "left down, as upstream leaves it\n" + out);
        List<String> addresses = new ArrayList<>(brief.subList(2, brief.size()));
        addresses.sort(null);
        assertEquals(List.of("10.96.0.10/32", "10.96.0.11/32", "fd00:96::10/128"), addresses, out);

        String details = after(out, "== details");
        assertTrue(details.contains("state DOWN") && details.contains("\n    dummy "), out);

        assertTrue(out.contains("deleteLink: true then false, left: absent\n"), out);
        String remaining = out.substring(out.indexOf("== links"));
        assertTrue(!remaining.contains("kube-ipvs0") && remaining.contains("lo "), out);
    }

    private static List<String> probe(String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), KubeIpvs0Probe.class.getName()));
        command.addAll(Arrays.asList(args));
        return command;
    }

    /** The rest of the line that starts with {@code prefix}. */
    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with \"" + prefix + "\" in:\n" + out))
                .substring(prefix.length());
    }

    /** Everything after the marker line up to the next marker. */
    private static String after(String out, String marker) {
        int start = out.indexOf(marker + "\n");
        assertTrue(start >= 0, "no " + marker + " in:\n" + out);
        String rest = out.substring(start + marker.length() + 1);
        int end = rest.indexOf("\n== ");
        return end < 0 ? rest : rest.substring(0, end + 1);
    }

    private static List<String> words(String text) {
        return Arrays.asList(text.trim().split("\\s+"));
    }
}
