package dev.ferry.ipvs.uml;

import dev.ferry.nativeio.GenericNetlink;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Runs inside a {@link UmlGuest}: our own netlink stack (native/) finds the IPVS generic netlink family and asks
 * the kernel for IPVS_CMD_GET_INFO, printing "IPVS family N version A.B.C table T". Proves the JVM, jnr-ffi and
 * the build's classes work in the guest, and that the guest kernel answers IPVS over netlink.
 */
public final class GuestProbe {

    private static final int IPVS_CMD_GET_INFO = 15;
    private static final int IPVS_INFO_ATTR_VERSION = 1;
    private static final int IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

    public static void main(String[] args) throws Exception {
        try (NetlinkSocket socket = NetlinkSocket.open(NetlinkSocket.NETLINK_GENERIC)) {
            int family = GenericNetlink.familyId(socket, "IPVS");
            List<NetlinkMessage> replies = socket.request(family, 0, GenericNetlink.header(IPVS_CMD_GET_INFO, 1),
                    "IPVS_CMD_GET_INFO");
            for (NetlinkMessage reply : replies) {
                if (reply.type() != family) {
                    continue;
                }
                ByteBuffer payload = reply.payload();
                var attributes = NetlinkAttribute.parse(payload.position(payload.position() + GenericNetlink.HEADER_LENGTH));
                long version = NetlinkAttribute.find(attributes, IPVS_INFO_ATTR_VERSION).orElseThrow().u32();
                long table = NetlinkAttribute.find(attributes, IPVS_INFO_ATTR_CONN_TAB_SIZE).orElseThrow().u32();
                System.out.printf("IPVS family %d version %d.%d.%d table %d%n", family,
                        version >> 16, (version >> 8) & 0xff, version & 0xff, table);
                return;
            }
            throw new IllegalStateException("no IPVS_CMD_GET_INFO answer among " + replies.size() + " messages");
        }
    }

    private GuestProbe() {
    }
}
