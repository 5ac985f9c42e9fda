package dev.ferry.proxy.conntrack;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.NetlinkSocket;
import dev.ferry.nativeio.ctnetlink.Conntrack;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The kernel's table over ctnetlink, opened on first use. After any failure the socket is
 * closed and the next call opens a fresh one, so a socket left out of step by an error is
 * never reused. Used from one thread at a time (the sync thread).
 */
final class NetlinkFlowTable implements FlowTable {

    private final Path netns; // null: this process's namespace
    private Conntrack conntrack;

    NetlinkFlowTable(Path netns) {
        this.netns = netns;
    }

    @Override
    public boolean dump(AddressFamily family, Consumer<ConntrackFlow> each) throws IOException {
        try {
            return open().dump(family, each);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public boolean delete(ConntrackFlow flow) throws IOException {
        try {
            return open().delete(flow);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private Conntrack open() throws IOException {
        if (conntrack == null) {
            if (!NetlinkSocket.isAvailable()) {
                throw new IOException("netlink is not available: " + NetlinkSocket.unavailabilityCause());
            }
            conntrack = netns == null ? Conntrack.open() : Conntrack.open(netns);
        }
        return conntrack;
    }

    @Override
    public void close() {
        if (conntrack != null) {
            conntrack.close();
            conntrack = null;
        }
    }
}
