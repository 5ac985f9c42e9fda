package dev.ferry.nativeio.ctnetlink;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.NetlinkSocket;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The kernel's connection tracking table over ctnetlink (NETLINK_NETFILTER): dump a family's
 * flows, delete one flow. Replaces the conntrack(8) program.
 *
 * <p>Threads: like its socket, one call at a time. Failures: IOException naming the request;
 * a flow that is already gone is not one.
 */
public final class Conntrack implements AutoCloseable {

    private final NetlinkSocket socket;

    private Conntrack(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** The table of this process's network namespace. */
    public static Conntrack open() throws IOException {
        return new Conntrack(NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER));
    }

    /** The table of the network namespace {@code netnsFile} refers to (e.g. /run/netns/NAME). */
    public static Conntrack open(Path netnsFile) throws IOException {
        return new Conntrack(NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER, netnsFile));
    }

    /**
     * Hands every flow of {@code family} to {@code each}, streaming: nothing but the current
     * datagram is held, so a table of a million flows costs no more memory than one of ten.
     *
     * @return true when the dump was consistent, false when the kernel says the table changed
     *         while it was read (some flows may be missing or repeated)
     */
    public boolean dump(AddressFamily family, Consumer<ConntrackFlow> each) throws IOException {
        Objects.requireNonNull(each, "each");
        RuntimeException[] bad = new RuntimeException[1];
        boolean consistent = socket.dump(CtnetlinkCodec.type(CtnetlinkCodec.IPCTNL_MSG_CT_GET),
                CtnetlinkCodec.dumpRequest(family), "dump conntrack table (" + family + ")", m -> {
                    if (bad[0] != null) {
                        return; // keep reading to the end so the socket stays in step
                    }
                    try {
                        ConntrackFlow flow = CtnetlinkCodec.decodeFlow(m);
                        if (flow != null && flow.family() == family) {
                            each.accept(flow);
                        }
                    } catch (RuntimeException e) {
                        bad[0] = e;
                    }
                });
        if (bad[0] instanceof IllegalArgumentException) {
            throw new IOException("dump conntrack table (" + family + "): malformed flow: " + bad[0].getMessage(), bad[0]);
        }
        if (bad[0] != null) {
            throw bad[0];
        }
        return consistent;
    }

    /** Every flow of {@code family}, in the kernel's order. */
    public List<ConntrackFlow> list(AddressFamily family) throws IOException {
        List<ConntrackFlow> out = new ArrayList<>();
        dump(family, out::add);
        return out;
    }

    /**
     * Deletes {@code flow} (found by its original tuple and zone, and only if its id still
     * matches when it has one).
     *
     * @return true when it was deleted, false when it was already gone (ENOENT)
     */
    public boolean delete(ConntrackFlow flow) throws IOException {
        try {
            socket.request(CtnetlinkCodec.type(CtnetlinkCodec.IPCTNL_MSG_CT_DELETE), 0,
                    CtnetlinkCodec.deleteRequest(flow), "delete conntrack flow " + flow);
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /** The underlying socket, for requests this class does not wrap. */
    NetlinkSocket socket() {
        return socket;
    }

    @Override
    public void close() {
        socket.close();
    }
}
