package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code bitwise} (boolean form): {@code destination = (source & mask) ^ xor} over {@code
 * mask.length()} bytes. nft writes {@code & X} as mask X, xor 0; {@code | X} as mask ~X, xor X;
 * {@code ^ X} as mask all ones, xor X. The kernel's default operation is this one (NFT_BITWISE_BOOL),
 * so, unlike nft for {@code meta mark} binops, we do not send NFTA_BITWISE_OP: older kernels lack it.
 */
public record Bitwise(int source, int destination, Data mask, Data xor) implements Expression {

    static final String NAME = "bitwise";
    private static final int SREG = 1;
    private static final int DREG = 2;
    private static final int LEN = 3;
    private static final int MASK = 4;
    private static final int XOR = 5;
    private static final int OP = 6;

    public Bitwise {
        Objects.requireNonNull(mask, "mask");
        Objects.requireNonNull(xor, "xor");
        if (mask.length() != xor.length()) {
            throw new IllegalArgumentException("bitwise mask of " + mask.length() + " bytes, xor of " + xor.length());
        }
        ExpressionCodec.register("bitwise source", source);
        ExpressionCodec.register("bitwise destination", destination);
    }

    /** {@code register & mask}, in place. */
    public static Bitwise and(int register, Data mask) {
        return new Bitwise(register, register, mask, Data.of(new byte[mask.length()]));
    }

    /** {@code register | bits}, in place. */
    public static Bitwise or(int register, Data bits) {
        byte[] m = bits.bytes();
        for (int i = 0; i < m.length; i++) {
            m[i] = (byte) ~m[i];
        }
        return new Bitwise(register, register, Data.of(m), bits);
    }

    /** {@code register ^ bits}, in place. */
    public static Bitwise xor(int register, Data bits) {
        byte[] ones = new byte[bits.length()];
        java.util.Arrays.fill(ones, (byte) 0xff);
        return new Bitwise(register, register, Data.of(ones), bits);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(SREG, source).putBe32(DREG, destination).putBe32(LEN, mask.length());
        ExpressionCodec.putData(w, MASK, mask);
        ExpressionCodec.putData(w, XOR, xor);
    }

    static Bitwise decode(List<NetlinkAttribute> a) {
        if (ExpressionCodec.u32(a, OP, 0) != 0) {
            throw new IllegalArgumentException("a shift, not a boolean bitwise");
        }
        return new Bitwise(ExpressionCodec.u32(a, SREG), ExpressionCodec.u32(a, DREG),
                ExpressionCodec.data(a, MASK), ExpressionCodec.data(a, XOR));
    }
}
