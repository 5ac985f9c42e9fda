package dev.ferry.nftables;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A value as nf_tables carries it in registers, comparisons and set keys: raw bytes, in the byte
 * order of the field they match (network order for addresses and ports, host order for marks).
 * Immutable; equal when the bytes are.
 */
public final class Data {

    /** The largest value a register chain holds: four 16-byte registers (NFT_REG_SIZE * 4). */
    static final int MAX_LENGTH = 64;

    private final byte[] bytes;

    private Data(byte[] bytes) {
        if (bytes.length == 0 || bytes.length > MAX_LENGTH) {
            throw new IllegalArgumentException("data of " + bytes.length + " bytes: must be 1 to " + MAX_LENGTH);
        }
        this.bytes = bytes;
    }

    /** These bytes, as given. */
    public static Data of(byte... bytes) {
        return new Data(Objects.requireNonNull(bytes, "bytes").clone());
    }

    /** An IPv4 or IPv6 address, network order. */
    public static Data address(InetAddress address) {
        return new Data(Objects.requireNonNull(address, "address").getAddress());
    }

    /** A port (inet_service): two bytes, network order. */
    public static Data port(int port) {
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("port " + port + " out of range 0..65535");
        }
        return new Data(new byte[] {(byte) (port >> 8), (byte) port});
    }

    /** A protocol number (inet_proto, meta l4proto): one byte. */
    public static Data protocol(int protocol) {
        if (protocol < 0 || protocol > 0xff) {
            throw new IllegalArgumentException("protocol " + protocol + " out of range 0..255");
        }
        return new Data(new byte[] {(byte) protocol});
    }

    /** A 32-bit value in host order, as the kernel keeps marks, ct state and meta/ct integers. */
    public static Data hostU32(long value) {
        return new Data(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt((int) value).array());
    }

    /** A 32-bit value in network order. */
    public static Data be32(long value) {
        return new Data(ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt((int) value).array());
    }

    /**
     * The key of a concatenation ({@code ip daddr . meta l4proto . th dport}): each field padded with
     * zeros to a multiple of 4 bytes, as the fields sit in consecutive 32-bit registers.
     */
    public static Data concat(Data... fields) {
        if (fields.length == 0) {
            throw new IllegalArgumentException("a concatenation needs at least one field");
        }
        int length = 0;
        for (Data f : fields) {
            length += padded(Objects.requireNonNull(f, "field").bytes.length);
        }
        byte[] out = new byte[length];
        int at = 0;
        for (Data f : fields) {
            System.arraycopy(f.bytes, 0, out, at, f.bytes.length);
            at += padded(f.bytes.length);
        }
        return new Data(out);
    }

    /** The first {@code length} bytes: what a prefix match compares ({@code ip6 saddr fd00::/64} is the first 8). */
    public Data first(int length) {
        if (length < 1 || length > bytes.length) {
            throw new IllegalArgumentException("first " + length + " of " + bytes.length + " bytes");
        }
        return new Data(java.util.Arrays.copyOf(bytes, length));
    }

    static int padded(int length) {
        return (length + 3) & ~3;
    }

    public int length() {
        return bytes.length;
    }

    /** A copy of the bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The bytes without copying, for the codec. */
    byte[] raw() {
        return bytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Data d && Arrays.equals(bytes, d.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** "0x0ab40001": the bytes in hex, in order. */
    @Override
    public String toString() {
        return "0x" + HexFormat.of().formatHex(bytes);
    }
}
