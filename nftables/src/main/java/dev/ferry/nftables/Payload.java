package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code payload}: loads {@code length} bytes at {@code offset} of a packet header into a register
 * ({@code ip daddr} is network header, offset 16, 4 bytes; {@code th dport} transport header,
 * offset 2, 2 bytes).
 */
public record Payload(Base base, int offset, int length, int destination) implements Expression {

    static final String NAME = "payload";
    private static final int DREG = 1;
    private static final int BASE = 2;
    private static final int OFFSET = 3;
    private static final int LEN = 4;

    /** NFT_PAYLOAD_*_HEADER. */
    public enum Base { LINK, NETWORK, TRANSPORT }

    public Payload {
        Objects.requireNonNull(base, "base");
        if (offset < 0 || offset > 0xff || length < 1 || length > Data.MAX_LENGTH) {
            throw new IllegalArgumentException("payload offset " + offset + " length " + length + ": out of range");
        }
        ExpressionCodec.register("payload destination", destination);
    }

    /** IPv4 source address (ip saddr) into {@code destination}. */
    public static Payload ipSource(int destination) {
        return new Payload(Base.NETWORK, 12, 4, destination);
    }

    /** IPv4 destination address (ip daddr) into {@code destination}. */
    public static Payload ipDestination(int destination) {
        return new Payload(Base.NETWORK, 16, 4, destination);
    }

    /** IPv6 source address (ip6 saddr). */
    public static Payload ip6Source(int destination) {
        return new Payload(Base.NETWORK, 8, 16, destination);
    }

    /** IPv6 destination address (ip6 daddr). */
    public static Payload ip6Destination(int destination) {
        return new Payload(Base.NETWORK, 24, 16, destination);
    }

    /** The transport destination port (th dport, tcp dport, udp dport). */
    public static Payload transportDestinationPort(int destination) {
        return new Payload(Base.TRANSPORT, 2, 2, destination);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(DREG, destination).putBe32(BASE, base.ordinal()).putBe32(OFFSET, offset).putBe32(LEN, length);
    }

    static Payload decode(List<NetlinkAttribute> a) {
        int base = ExpressionCodec.u32(a, BASE);
        if (base < 0 || base >= Base.values().length || ExpressionCodec.find(a, DREG).isEmpty()) {
            throw new IllegalArgumentException("payload base " + base + " or a payload write");
        }
        return new Payload(Base.values()[base], ExpressionCodec.u32(a, OFFSET), ExpressionCodec.u32(a, LEN),
                ExpressionCodec.u32(a, DREG));
    }
}
