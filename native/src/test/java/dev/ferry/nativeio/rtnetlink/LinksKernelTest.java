package dev.ferry.nativeio.rtnetlink;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link Links} against this machine's kernel, in a throwaway network namespace with a veth pair (the kernel here
 * has no dummy links; KubeIpvs0IT in the ipvs module covers those inside user-mode-linux). Results are checked
 * with iproute2, not with our own reading.
 */
class LinksKernelTest {

    private String ns;
    private Links links;

    @BeforeEach
    void namespace() throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
        ns = "fy-" + UUID.randomUUID().toString().substring(0, 8) + "-rtnl";
        run("ip", "netns", "add", ns);
        in("ip", "link", "set", "lo", "up");
        in("ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1");
        links = Links.open(Path.of("/run/netns", ns));
    }

    @AfterEach
    void cleanup() {
        if (links != null) {
            links.close();
        }
        if (ns != null) {
            try {
                run("ip", "netns", "delete", ns);
            } catch (RuntimeException ignored) {
                // not created
            }
        }
    }

    @Test
    void findsLinksByName() throws IOException {
        Link veth = links.link("veth0").orElseThrow();
        assertEquals("veth", veth.kind());
        assertFalse(veth.up());
        assertTrue(in("ip", "-o", "link", "show", "veth0").startsWith(veth.index() + ": veth0@"));
        assertEquals(veth.index(), links.index("veth0").getAsInt());
        assertTrue(links.index("absent0").isEmpty());
        assertEquals(new Link(1, "lo", "", true), links.link("lo").orElseThrow());
    }

    @Test
    void addsAndDeletesHostAddresses() throws IOException {
        int veth = links.index("veth0").getAsInt();

        assertTrue(links.addAddress(veth, ip("10.96.0.10")));
        assertFalse(links.addAddress(veth, ip("10.96.0.10")), "already there");
        assertTrue(links.addAddress(veth, ip("fd00:96::10")));

        assertEquals(Set.of(ip("10.96.0.10"), ip("fd00:96::10")), links.addresses(veth));
        String shown = in("ip", "-br", "addr", "show", "veth0");
        assertTrue(shown.contains("10.96.0.10/32") && shown.contains("fd00:96::10/128"), shown);

        assertTrue(links.deleteAddress(veth, ip("10.96.0.10")));
        assertFalse(links.deleteAddress(veth, ip("10.96.0.10")), "already gone");
        assertTrue(links.deleteAddress(veth, ip("fd00:96::10")));
        assertFalse(links.deleteAddress(veth, ip("fd00:96::10")), "already gone");
        assertEquals(Set.of(), links.addresses(veth));
    }

    @Test
    void syncLeavesExactlyTheWantedHostAddresses() throws IOException {
        int veth = links.index("veth0").getAsInt();
        in("ip", "addr", "add", "10.96.0.99/32", "dev", "veth0");
        in("ip", "addr", "add", "10.96.0.10/24", "dev", "veth0");
        in("ip", "addr", "add", "fd00:96::99/128", "dev", "veth0", "nodad");
        Set<InetAddress> wanted = Set.of(ip("10.96.0.10"), ip("10.96.0.11"), ip("fd00:96::10"));

        AddressChanges changes = links.syncAddresses(veth, wanted);

        assertEquals(wanted, changes.added());
        assertEquals(Set.of(ip("10.96.0.99"), ip("10.96.0.10"), ip("fd00:96::99")), changes.removed());
        assertEquals(List.of("10.96.0.10/32", "10.96.0.11/32", "fd00:96::10/128"), shownAddresses("veth0"));
        assertTrue(links.syncAddresses(veth, wanted).isEmpty(), "a second sync changes nothing");
    }

    @Test
    void aFamilySyncLeavesTheOtherFamilyAlone() throws IOException {
        int veth = links.index("veth0").getAsInt();
        in("ip", "addr", "add", "fd00:96::99/128", "dev", "veth0", "nodad");
        in("ip", "addr", "add", "10.96.0.99/32", "dev", "veth0");

        AddressChanges changes = links.syncAddresses(veth, AddressFamily.INET, Set.of(ip("10.96.0.1")));

        assertEquals(Set.of(ip("10.96.0.99")), changes.removed());
        assertEquals(List.of("10.96.0.1/32", "fd00:96::99/128"), shownAddresses("veth0"));
        assertThrows(IllegalArgumentException.class,
                () -> links.syncAddresses(veth, AddressFamily.INET, Set.of(ip("fd00::1"))));
        assertThrows(IllegalArgumentException.class, () -> links.syncAddresses(veth, Set.of(ip("127.0.0.2"))));
        assertThrows(IllegalArgumentException.class, () -> links.syncAddresses(veth, Set.of(ip("fe80::1"))));
        assertEquals(List.of("10.96.0.1/32", "fd00:96::99/128"), shownAddresses("veth0"), "refused before any change");
    }

    @Test
    void syncNeverRemovesLoopbackAddresses() throws IOException {
        int lo = links.index("lo").getAsInt();

        AddressChanges changes = links.syncAddresses(lo, Set.of(ip("10.96.0.5")));

        assertEquals(Set.of(ip("10.96.0.5")), changes.added());
        assertEquals(Set.of(), changes.removed());
        String shown = in("ip", "-br", "addr", "show", "lo");
        assertTrue(shown.contains("127.0.0.1/8") && shown.contains("::1/128") && shown.contains("10.96.0.5/32"), shown);
    }

    @Test
    void refusesToDeleteALinkThatIsNotADummy() throws IOException {
        IOException e = assertThrows(IOException.class, () -> links.deleteLink("veth0"));
        assertTrue(e.getMessage().contains("not a dummy link"), e.getMessage());
        assertTrue(links.index("veth0").isPresent(), "left in place");
        assertFalse(links.deleteLink("absent0"));
    }

    @Test
    void aKernelWithoutDummyLinksSaysSo() throws IOException {
        try {
            int index = links.ensureDummy("kube-ipvs0");
            assertEquals("dummy", links.link("kube-ipvs0").orElseThrow().kind(), "this kernel has dummy links after all");
            assertEquals(index, links.ensureDummy("kube-ipvs0"));
        } catch (NetlinkException e) {
            assertEquals(Errno.EOPNOTSUPP, e.errno());
            assertTrue(e.getMessage().startsWith("create dummy link kube-ipvs0 in /run/netns/"), e.getMessage());
        }
    }

    @Test
    void badNamesAndIndexesNeverReachTheKernel() {
        assertThrows(IllegalArgumentException.class, () -> links.index("a/b"));
        assertThrows(IllegalArgumentException.class, () -> links.ensureDummy("kube ipvs0"));
        assertThrows(IllegalArgumentException.class, () -> links.deleteLink("much-too-long-name"));
        assertThrows(IllegalArgumentException.class, () -> links.addresses(0));
        assertThrows(NullPointerException.class, () -> links.addAddress(1, null));
    }

    /** Global addresses of a link as iproute2 lists them ("10.96.0.10/32"), sorted; link-local ones left out. */
    private List<String> shownAddresses(String link) {
        List<String> out = new ArrayList<>();
        for (String word : in("ip", "-br", "addr", "show", link).trim().split("\\s+")) {
            if (word.contains("/") && !word.startsWith("fe80:")) {
                out.add(word);
            }
        }
        out.sort(null);
        return out;
    }

    private String in(String... command) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        return run(argv.toArray(new String[0]));
    }

    private static String run(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + List.of(argv));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(List.of(argv) + " exited with " + p.exitValue() + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
