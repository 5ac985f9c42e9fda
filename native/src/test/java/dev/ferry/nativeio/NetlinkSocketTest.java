package dev.ferry.nativeio;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real sockets; none of this needs root. */
class NetlinkSocketTest {

    @Test
    void availableOnThisLinuxMachine() {
        assertNull(NetlinkSocket.unavailabilityCause());
        assertTrue(NetlinkSocket.isAvailable());
    }

    @Test
    void opensARouteSocketWithAPortId() throws IOException {
        try (NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE)) {
            assertTrue(s.portId() != 0, "the kernel assigns a port id at bind");
            assertEquals(NetlinkSocket.NETLINK_ROUTE, s.protocol());
        }
    }

    @Test
    void dumpsLinksThroughRtnetlink() throws IOException {
        // RTM_GETLINK (18) dump: at least the loopback link answers.
        byte[] ifinfomsg = new byte[16];
        int[] links = {0};
        try (NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE)) {
            boolean consistent = s.dump(18, ifinfomsg, "dump links", m -> links[0]++);
            assertTrue(consistent);
            // The socket stays in step: a second request works too.
            s.dump(18, ifinfomsg, "dump links again", m -> { });
        }
        assertTrue(links[0] >= 1, "links: " + links[0]);
    }

    @Test
    void kernelErrorsNameTheRequestAndErrno() throws IOException {
        try (NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE)) {
            // RTM_DELLINK (17) of interface index 0x7ffffff0, which does not exist.
            byte[] ifinfomsg = new byte[16];
            java.nio.ByteBuffer.wrap(ifinfomsg).order(java.nio.ByteOrder.nativeOrder()).putInt(4, 0x7ffffff0);
            NetlinkException e = assertThrows(NetlinkException.class,
                    () -> s.request(17, 0, ifinfomsg, "delete link 2147483632"));
            assertTrue(e.errno() == Errno.ENODEV || e.errno() == Errno.EPERM, e.getMessage());
            assertTrue(e.getMessage().startsWith("delete link 2147483632: "), e.getMessage());
        }
    }

    @Test
    void openingInAMissingNamespaceSaysWhich() {
        NetlinkException e = assertThrows(NetlinkException.class,
                () -> NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE, Path.of("/run/netns/fy-does-not-exist")));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("/run/netns/fy-does-not-exist"), e.getMessage());
    }

    @Test
    void aClosedSocketRefusesRequests() throws IOException {
        NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE);
        s.close();
        s.close(); // idempotent
        IOException e = assertThrows(IOException.class, () -> s.request(18, 0, new byte[16], "get links"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
}
