package dev.ferry.nftables;

import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.NetNamespace;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throwaway network namespace for real-kernel tests, with the nft binary as the test's own tool to
 * build and read rulesets (the code under test never runs it). {@link #close()} deletes the namespace.
 */
final class TestNamespace implements AutoCloseable {

    private final NetNamespace ns;

    TestNamespace() throws IOException {
        ns = NetNamespace.create();
    }

    static boolean isRoot() {
        return NetNamespace.isRoot();
    }

    Path file() {
        return Path.of("/run/netns", ns.name);
    }

    /** {@code nft -f -} inside, reading {@code script}. */
    void nft(String script) throws IOException {
        ns.exec(script, "nft", "-f", "-");
    }

    /** {@code nft list tables}: "table ip filter-other", ... in the kernel's order. */
    List<String> listTables() throws IOException {
        return ns.exec(null, "nft", "list", "tables").lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    /** {@code nft list table FAMILY NAME}. */
    String listTable(String family, String table) throws IOException {
        return ns.exec(null, "nft", "list", "table", family, table);
    }

    /** {@code command} run inside the namespace, whatever its exit status. */
    CommandRunner.Result run(String... command) throws IOException {
        return ns.runner.run(new ArrayList<>(List.of(command)), null);
    }

    @Override
    public void close() throws IOException {
        ns.close();
    }
}
