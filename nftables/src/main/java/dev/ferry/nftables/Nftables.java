package dev.ferry.nftables;

import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.NetlinkSocket;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A connection to the kernel's nf_tables over netlink (NETLINK_NETFILTER), in the style of
 * google/nftables: reads are sent at once; changes are buffered as commands and sent together as
 * one transaction by {@link #flush()}, which the kernel applies whole or not at all. No nft binary
 * is involved.
 *
 * <p>Threads: one caller at a time (not thread-safe; the socket serialises its own calls). Failures:
 * an {@link IOException} naming the command and the errno ({@link NetlinkException}); after a failed
 * flush nothing of it was applied and the buffer is empty again.
 */
public final class Nftables implements AutoCloseable {

    private static final int DUMP_ATTEMPTS = 3;

    private final NetlinkSocket socket;
    private Batch pending = new Batch();

    private Nftables(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** Whether netlink can be used here (Linux, libc loadable). */
    public static boolean isAvailable() {
        return NetlinkSocket.isAvailable();
    }

    /** Why {@link #isAvailable()} is false; null when it is true. */
    public static String unavailabilityCause() {
        return NetlinkSocket.unavailabilityCause();
    }

    /** The ruleset of this process's network namespace. */
    public static Nftables open() throws IOException {
        return new Nftables(NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER));
    }

    /** The ruleset of the network namespace {@code netnsFile} refers to (e.g. /run/netns/NAME). */
    public static Nftables open(Path netnsFile) throws IOException {
        return new Nftables(NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER, netnsFile));
    }

    /** Every table, of every family, in the kernel's order. */
    public List<Table> tables() throws IOException {
        return socket.dumpAll(NftNumbers.type(NftNumbers.NFT_MSG_GETTABLE),
                NftNumbers.nfgenmsg(NftNumbers.FAMILY_UNSPEC, 0), "list nftables tables", DUMP_ATTEMPTS, Table::decode);
    }

    /** Whether {@code table} exists. */
    public boolean exists(Table table) throws IOException {
        Objects.requireNonNull(table, "table");
        try {
            socket.request(NftNumbers.type(NftNumbers.NFT_MSG_GETTABLE), 0, table.namePayload(), "get " + table);
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Deletes {@code table} with everything in it (chains, rules, sets, maps), in a transaction of
     * its own.
     *
     * @return true when it was deleted, false when there was no such table (ENOENT)
     */
    public boolean deleteIfExists(Table table) throws IOException {
        flush(); // what was buffered before goes first, and on its own
        delete(table);
        try {
            flush();
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /** Buffers the deletion of {@code table} (it must exist when the transaction runs). */
    void delete(Table table) {
        Objects.requireNonNull(table, "table");
        pending.add(NftNumbers.NFT_MSG_DELTABLE, table.namePayload(), "delete " + table);
    }

    /** Sends the buffered commands as one transaction; nothing when none is buffered. */
    void flush() throws IOException {
        Batch batch = pending;
        pending = new Batch();
        batch.run(socket);
    }

    @Override
    public void close() {
        socket.close();
    }

    @Override
    public String toString() {
        return "nf_tables over " + socket;
    }
}
