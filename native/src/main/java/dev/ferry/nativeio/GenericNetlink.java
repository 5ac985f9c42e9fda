package dev.ferry.nativeio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * Generic netlink (NETLINK_GENERIC): families such as IPVS get their message type number at
 * run time; {@link #familyId} asks the controller (CTRL_CMD_GETFAMILY) for it. Every generic
 * netlink payload starts with a genlmsghdr: command, version, two reserved bytes.
 */
public final class GenericNetlink {

    public static final int GENL_ID_CTRL = 0x10;
    static final int CTRL_CMD_GETFAMILY = 3;
    static final int CTRL_ATTR_FAMILY_ID = 1;
    static final int CTRL_ATTR_FAMILY_NAME = 2;
    public static final int HEADER_LENGTH = 4;

    private GenericNetlink() {
    }

    /** The genlmsghdr of a request. */
    public static byte[] header(int command, int version) {
        return new byte[] {(byte) command, (byte) version, 0, 0};
    }

    /**
     * The message type of the family called {@code name} (e.g. "IPVS").
     *
     * @throws NetlinkException with ENOENT when the kernel has no such family (module not loaded)
     */
    public static int familyId(NetlinkSocket socket, String name) throws IOException {
        Objects.requireNonNull(name, "name");
        byte[] payload = new AttributeWriter().header(header(CTRL_CMD_GETFAMILY, 1))
                .putString(CTRL_ATTR_FAMILY_NAME, name).toByteArray();
        List<NetlinkMessage> replies = socket.request(GENL_ID_CTRL, 0, payload, "look up generic netlink family " + name);
        for (NetlinkMessage m : replies) {
            ByteBuffer p = m.payload();
            if (m.type() != GENL_ID_CTRL || p.remaining() < HEADER_LENGTH) {
                continue;
            }
            var id = NetlinkAttribute.find(NetlinkAttribute.parse(p.position(HEADER_LENGTH)), CTRL_ATTR_FAMILY_ID);
            if (id.isPresent()) {
                return id.get().u16();
            }
        }
        throw new IOException("look up generic netlink family " + name + ": the answer has no CTRL_ATTR_FAMILY_ID");
    }
}
