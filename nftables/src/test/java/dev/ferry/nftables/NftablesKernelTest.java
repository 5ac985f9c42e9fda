package dev.ferry.nftables;

import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.netfilter.CommandRunner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Our nf_tables client against the real kernel, in a fresh network namespace: nft builds what an
 * nftables-mode kube-proxy leaves plus tables that are not ours; we list and delete over netlink;
 * nft reads the result.
 */
@Tag("privileged")
class NftablesKernelTest {

    private static final List<String> FOREIGN = List.of("table ip filter-other", "table inet kube-proxy", "table inet filter");

    private TestNamespace ns;

    @BeforeEach
    void namespace() throws IOException {
        assumeTrue(TestNamespace.isRoot(), "needs root to create network namespaces and program nf_tables");
        ns = new TestNamespace();
        ns.nft(resource("upstream-leftovers.nft"));
    }

    @AfterEach
    void deleteNamespace() throws IOException {
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void listsEveryTableAsNftDoes() throws IOException {
        try (Nftables nft = Nftables.open(ns.file())) {
            assertEquals(ns.listTables(), nft.tables().stream().map(Table::toString).toList());
            assertTrue(nft.exists(KubeProxyTables.ALL.get(0)));
            assertTrue(nft.exists(new Table(TableFamily.INET, "filter")));
            assertFalse(nft.exists(new Table(TableFamily.IPV6, "filter-other")), "same name, other family");
        }
    }

    @Test
    void removesBothKubeProxyTablesWithEverythingInThemAndNothingElse() throws IOException {
        Map<String, String> foreignBefore = foreignTables();

        assertTrue(KubeProxyTables.remove(() -> Nftables.open(ns.file())));

        assertEquals(FOREIGN, ns.listTables(), "only ip/ip6 kube-proxy are gone");
        assertEquals(foreignBefore, foreignTables(), "the other tables are byte-identical");
        try (Nftables nft = Nftables.open(ns.file())) {
            assertFalse(nft.exists(KubeProxyTables.ALL.get(0)));
            assertFalse(nft.exists(KubeProxyTables.ALL.get(1)));
        }
    }

    @Test
    void absentTablesAreNoError() throws IOException {
        try (Nftables nft = Nftables.open(ns.file())) {
            assertTrue(nft.deleteIfExists(KubeProxyTables.ALL.get(1)), "present: deleted");
            assertFalse(nft.deleteIfExists(KubeProxyTables.ALL.get(1)), "then absent: ENOENT is no error");
        }
        assertTrue(KubeProxyTables.remove(() -> Nftables.open(ns.file())), "one present, one absent");
        assertTrue(KubeProxyTables.remove(() -> Nftables.open(ns.file())), "both absent");
        assertEquals(FOREIGN, ns.listTables());
    }

    @Test
    void aRefusedCommandRollsBackTheWholeTransaction() throws IOException {
        Table absent = new Table(TableFamily.IPV4, "not-there");
        try (Nftables nft = Nftables.open(ns.file())) {
            nft.deleteTable(KubeProxyTables.ALL.get(0));
            nft.deleteTable(absent);
            NetlinkException e = assertThrows(NetlinkException.class, nft::flush);
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().startsWith("delete table ip not-there: "), e.getMessage());
            assertTrue(nft.exists(KubeProxyTables.ALL.get(0)), "the first delete was rolled back with the batch");

            nft.flush(); // the failed batch is not sent again
            nft.deleteTable(KubeProxyTables.ALL.get(0));
            nft.deleteTable(KubeProxyTables.ALL.get(1));
            nft.flush();
            assertEquals(FOREIGN, ns.listTables(), "two commands in one transaction");
        }
    }

    @Test
    void withoutCapNetAdminTheRefusalSaysWhatIsMissing() throws IOException {
        assumeTrue(ns.run("sh", "-c", "command -v setpriv").ok(), "setpriv (util-linux) is missing");
        // A child JVM in the namespace, root but without CAP_NET_ADMIN (dropped from its bounding and inheritable sets).
        CommandRunner.Result r = ns.run("setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), NoNetAdminProbe.class.getName());
        String output = r.stdout() + r.stderr();

        assertEquals(0, r.exitCode(), output);
        assertTrue(output.contains("refused: delete table ip kube-proxy: Operation not permitted (EPERM, errno 1): "
                + "nf_tables needs CAP_NET_ADMIN"), output);
        String warning = "cannot delete nftables table ip kube-proxy and table ip6 kube-proxy, which an nftables-mode "
                + "kube-proxy may have left";
        assertEquals(1, output.lines().filter(l -> l.contains("WARN")).count(), output);
        assertTrue(output.lines().anyMatch(l -> l.contains(warning) && l.contains("CAP_NET_ADMIN")),
                "one warning, with the reason: " + output);
        assertTrue(output.contains("remove: false"), output);
        assertTrue(ns.listTables().contains("table ip kube-proxy"), "nothing was deleted");
    }

    private Map<String, String> foreignTables() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String t : FOREIGN) {
            String[] parts = t.split(" ");
            out.put(t, ns.listTable(parts[1], parts[2]));
        }
        return out;
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = NftablesKernelTest.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IOException("test resource " + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
