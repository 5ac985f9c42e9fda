package dev.ferry.nativeio;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One netlink attribute (struct nlattr): a type and its value. The type here has the
 * NLA_F_NESTED and NLA_F_NET_BYTEORDER flags removed; {@link #rawType} keeps them. Accessors
 * check the length and say which attribute was wrong.
 */
public final class NetlinkAttribute {

    public static final int HEADER_LENGTH = 4;
    public static final int NLA_F_NESTED = 0x8000;
    public static final int NLA_F_NET_BYTEORDER = 0x4000;
    private static final int TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

    private final int rawType;
    private final ByteBuffer value;

    NetlinkAttribute(int rawType, ByteBuffer value) {
        this.rawType = rawType;
        this.value = value.slice().asReadOnlyBuffer();
    }

    public int type() {
        return rawType & TYPE_MASK;
    }

    public int rawType() {
        return rawType;
    }

    public int length() {
        return value.remaining();
    }

    /** The value, position 0, in host byte order. */
    public ByteBuffer value() {
        return value.duplicate().order(ByteOrder.nativeOrder());
    }

    public byte[] bytes() {
        byte[] out = new byte[value.remaining()];
        value.duplicate().get(out);
        return out;
    }

    public int u8() {
        need(1);
        return value.get(0) & 0xff;
    }

    public int u16() {
        need(2);
        return value().getShort(0) & 0xffff;
    }

    public int be16() {
        need(2);
        return value().order(ByteOrder.BIG_ENDIAN).getShort(0) & 0xffff;
    }

    public long u32() {
        need(4);
        return value().getInt(0) & 0xffffffffL;
    }

    public long be32() {
        need(4);
        return value().order(ByteOrder.BIG_ENDIAN).getInt(0) & 0xffffffffL;
    }

    public long be64() {
        need(8);
        return value().order(ByteOrder.BIG_ENDIAN).getLong(0);
    }

    /** A NUL-terminated string (the NUL and anything after it dropped). */
    public String string() {
        byte[] b = bytes();
        int end = 0;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        return new String(b, 0, end, StandardCharsets.UTF_8);
    }

    /** A 4- or 16-byte address. */
    public InetAddress address() {
        if (length() != 4 && length() != 16) {
            throw new IllegalArgumentException("attribute " + type() + ": an address needs 4 or 16 bytes, got " + length());
        }
        try {
            return InetAddress.getByAddress(bytes());
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** The attributes nested inside this one. */
    public List<NetlinkAttribute> nested() {
        return parse(value());
    }

    private void need(int n) {
        if (value.remaining() < n) {
            throw new IllegalArgumentException("attribute " + type() + " has " + value.remaining() + " bytes, needs " + n);
        }
    }

    /**
     * Parses consecutive attributes from the buffer's position to its limit.
     *
     * @throws IllegalArgumentException when an attribute's length runs past the buffer
     */
    public static List<NetlinkAttribute> parse(ByteBuffer buffer) {
        ByteBuffer b = buffer.slice().order(ByteOrder.nativeOrder());
        List<NetlinkAttribute> out = new ArrayList<>();
        int offset = 0;
        int limit = b.limit();
        while (limit - offset >= HEADER_LENGTH) {
            int len = b.getShort(offset) & 0xffff;
            int type = b.getShort(offset + 2) & 0xffff;
            if (len < HEADER_LENGTH || len > limit - offset) {
                throw new IllegalArgumentException("attribute " + (type & TYPE_MASK) + " at offset " + offset
                        + " claims length " + len + " with " + (limit - offset) + " bytes left");
            }
            out.add(new NetlinkAttribute(type, b.duplicate().position(offset + HEADER_LENGTH).limit(offset + len)));
            offset += NetlinkMessage.align(len);
        }
        return out;
    }

    /** The first attribute of {@code type}, if any. */
    public static Optional<NetlinkAttribute> find(List<NetlinkAttribute> attributes, int type) {
        for (NetlinkAttribute a : attributes) {
            if (a.type() == type) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "nla(type=" + type() + ", " + length() + " bytes)";
    }
}
