package dev.ferry.nativeio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One netlink message: the nlmsghdr fields and the payload after it (the family header, e.g.
 * nfgenmsg or genlmsghdr, followed by attributes). The header is in host byte order.
 */
public final class NetlinkMessage {

    public static final int HEADER_LENGTH = 16;

    // nlmsg_type values every family shares.
    public static final int NLMSG_NOOP = 1;
    public static final int NLMSG_ERROR = 2;
    public static final int NLMSG_DONE = 3;
    public static final int NLMSG_OVERRUN = 4;

    // nlmsg_flags.
    public static final int NLM_F_REQUEST = 0x1;
    public static final int NLM_F_MULTI = 0x2;
    public static final int NLM_F_ACK = 0x4;
    public static final int NLM_F_DUMP_INTR = 0x10;
    public static final int NLM_F_ROOT = 0x100;
    public static final int NLM_F_MATCH = 0x200;
    public static final int NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    public static final int NLM_F_REPLACE = 0x100;
    public static final int NLM_F_EXCL = 0x200;
    public static final int NLM_F_CREATE = 0x400;
    /** In an NLMSG_ERROR: the echoed request is only its header (NETLINK_CAP_ACK). */
    public static final int NLM_F_CAPPED = 0x100;
    /** In an NLMSG_ERROR: extended-ack attributes follow the echoed request. */
    public static final int NLM_F_ACK_TLVS = 0x200;

    private final int type;
    private final int flags;
    private final int sequence;
    private final int portId;
    private final ByteBuffer payload;

    public NetlinkMessage(int type, int flags, int sequence, int portId, ByteBuffer payload) {
        this.type = type;
        this.flags = flags;
        this.sequence = sequence;
        this.portId = portId;
        this.payload = Objects.requireNonNull(payload, "payload").slice().order(ByteOrder.nativeOrder()).asReadOnlyBuffer();
    }

    public int type() {
        return type;
    }

    public int flags() {
        return flags;
    }

    public int sequence() {
        return sequence;
    }

    /** The sender's port id; 0 for the kernel. */
    public int portId() {
        return portId;
    }

    /** A fresh read-only view of the payload (position 0, host byte order). */
    public ByteBuffer payload() {
        return payload.duplicate().order(ByteOrder.nativeOrder());
    }

    /** Header and payload as the kernel expects them: nlmsg_len covers both, unpadded. */
    public static byte[] encode(int type, int flags, int sequence, int portId, byte[] payload) {
        if (type < 0 || type > 0xffff || flags < 0 || flags > 0xffff) {
            throw new IllegalArgumentException("type " + type + " or flags " + flags + " out of range");
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH + payload.length).order(ByteOrder.nativeOrder());
        b.putInt(HEADER_LENGTH + payload.length).putShort((short) type).putShort((short) flags)
                .putInt(sequence).putInt(portId).put(payload);
        return b.array();
    }

    /**
     * Splits one datagram into messages. Each message starts at a 4-byte boundary.
     *
     * @throws IllegalArgumentException when a length field is inconsistent with the datagram
     */
    public static List<NetlinkMessage> decode(byte[] datagram, int length) {
        ByteBuffer b = ByteBuffer.wrap(datagram, 0, length).order(ByteOrder.nativeOrder());
        List<NetlinkMessage> out = new ArrayList<>();
        int offset = 0;
        while (length - offset >= HEADER_LENGTH) {
            int len = b.getInt(offset);
            if (len < HEADER_LENGTH || len > length - offset) {
                throw new IllegalArgumentException("netlink message at offset " + offset + " claims length " + len
                        + " in a datagram of " + length + " bytes");
            }
            int type = b.getShort(offset + 4) & 0xffff;
            int flags = b.getShort(offset + 6) & 0xffff;
            int seq = b.getInt(offset + 8);
            int pid = b.getInt(offset + 12);
            ByteBuffer payload = ByteBuffer.wrap(datagram, offset + HEADER_LENGTH, len - HEADER_LENGTH).slice();
            out.add(new NetlinkMessage(type, flags, seq, pid, payload));
            offset += align(len);
        }
        return out;
    }

    static int align(int length) {
        return (length + 3) & ~3;
    }

    @Override
    public String toString() {
        return "nlmsg(type=" + type + ", flags=0x" + Integer.toHexString(flags) + ", seq=" + sequence
                + ", pid=" + portId + ", " + payload.remaining() + " payload bytes)";
    }
}
