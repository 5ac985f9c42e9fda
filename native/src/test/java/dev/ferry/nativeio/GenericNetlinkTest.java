package dev.ferry.nativeio;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Family lookup against the real kernel's generic netlink controller (no root needed). */
class GenericNetlinkTest {

    @Test
    void theControllerFindsItself() throws IOException {
        try (NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_GENERIC)) {
            assertEquals(GenericNetlink.GENL_ID_CTRL, GenericNetlink.familyId(s, "nlctrl"));
        }
    }

    @Test
    void anUnknownFamilyIsENOENTNamingIt() throws IOException {
        try (NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_GENERIC)) {
            NetlinkException e = assertThrows(NetlinkException.class, () -> GenericNetlink.familyId(s, "FY_NO_SUCH"));
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().startsWith("look up generic netlink family FY_NO_SUCH: "), e.getMessage());
            // The socket is still in step after an error.
            assertEquals(GenericNetlink.GENL_ID_CTRL, GenericNetlink.familyId(s, "nlctrl"));
        }
    }
}
