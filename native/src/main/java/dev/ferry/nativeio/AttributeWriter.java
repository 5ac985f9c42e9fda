package dev.ferry.nativeio;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Builds a message payload: an optional fixed family header, then attributes, each padded to
 * 4 bytes. Nested attributes are opened with {@link #beginNested} and closed with
 * {@link #endNested}, which fills in the length. Not thread-safe; one writer per message.
 */
public final class AttributeWriter {

    private byte[] buf = new byte[256];
    private int size;
    private final Deque<Integer> open = new ArrayDeque<>();

    /** Raw bytes, e.g. the nfgenmsg or genlmsghdr that precedes the attributes. */
    public AttributeWriter header(byte[] bytes) {
        write(bytes, 0, bytes.length);
        pad();
        return this;
    }

    public AttributeWriter put(int type, byte[] value) {
        ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder());
        int len = NetlinkAttribute.HEADER_LENGTH + value.length;
        if (len > 0xffff) {
            throw new IllegalArgumentException("attribute " + type + " too long: " + value.length + " bytes");
        }
        h.putShort((short) len).putShort((short) type);
        write(h.array(), 0, 4);
        write(value, 0, value.length);
        pad();
        return this;
    }

    public AttributeWriter putU8(int type, int value) {
        return put(type, new byte[] {(byte) value});
    }

    public AttributeWriter putU16(int type, int value) {
        return put(type, ByteBuffer.allocate(2).order(ByteOrder.nativeOrder()).putShort((short) value).array());
    }

    public AttributeWriter putBe16(int type, int value) {
        return put(type, ByteBuffer.allocate(2).order(ByteOrder.BIG_ENDIAN).putShort((short) value).array());
    }

    public AttributeWriter putU32(int type, long value) {
        return put(type, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt((int) value).array());
    }

    public AttributeWriter putBe32(int type, long value) {
        return put(type, ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt((int) value).array());
    }

    /** NUL-terminated, as the kernel's NLA_NUL_STRING and NLA_STRING policies accept. */
    public AttributeWriter putString(int type, String value) {
        byte[] s = value.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[s.length + 1];
        System.arraycopy(s, 0, z, 0, s.length);
        return put(type, z);
    }

    public AttributeWriter putAddress(int type, InetAddress address) {
        return put(type, address.getAddress());
    }

    /** Opens a nested attribute (NLA_F_NESTED set); close it with {@link #endNested}. */
    public AttributeWriter beginNested(int type) {
        open.push(size);
        ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder());
        h.putShort((short) 0).putShort((short) (type | NetlinkAttribute.NLA_F_NESTED));
        write(h.array(), 0, 4);
        return this;
    }

    public AttributeWriter endNested() {
        if (open.isEmpty()) {
            throw new IllegalStateException("endNested without beginNested");
        }
        int start = open.pop();
        int len = size - start;
        if (len > 0xffff) {
            throw new IllegalArgumentException("nested attribute too long: " + len + " bytes (a netlink attribute "
                    + "holds at most 65535)");
        }
        ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder()).putShort(start, (short) len);
        return this;
    }

    /** Bytes written so far. */
    public int size() {
        return size;
    }

    public byte[] toByteArray() {
        if (!open.isEmpty()) {
            throw new IllegalStateException(open.size() + " nested attribute(s) still open");
        }
        byte[] out = new byte[size];
        System.arraycopy(buf, 0, out, 0, size);
        return out;
    }

    private void pad() {
        int padded = NetlinkMessage.align(size);
        write(new byte[padded - size], 0, padded - size);
    }

    private void write(byte[] b, int off, int len) {
        if (size + len > buf.length) {
            byte[] bigger = new byte[Math.max(buf.length * 2, size + len)];
            System.arraycopy(buf, 0, bigger, 0, size);
            buf = bigger;
        }
        System.arraycopy(b, off, buf, size, len);
        size += len;
    }
}
