package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;

/** {@code numgen random mod N}: a number in [offset, offset + N) into a register, random or round-robin. */
public record Numgen(int destination, int modulus, boolean random, int offset) implements Expression {

    static final String NAME = "numgen";
    private static final int DREG = 1;
    private static final int MODULUS = 2;
    private static final int TYPE = 3;
    private static final int OFFSET = 4;
    private static final int NFT_NG_INCREMENTAL = 0;
    private static final int NFT_NG_RANDOM = 1;

    public Numgen {
        ExpressionCodec.register("numgen destination", destination);
        if (modulus < 1 || offset < 0) {
            throw new IllegalArgumentException("numgen modulus " + modulus + " offset " + offset
                    + ": modulus at least 1, offset not negative");
        }
    }

    /** {@code numgen random mod modulus}. */
    public static Numgen random(int destination, int modulus) {
        return new Numgen(destination, modulus, true, 0);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(DREG, destination).putBe32(MODULUS, modulus).putBe32(TYPE, random ? NFT_NG_RANDOM : NFT_NG_INCREMENTAL)
                .putBe32(OFFSET, offset);
    }

    static Numgen decode(List<NetlinkAttribute> a) {
        return new Numgen(ExpressionCodec.u32(a, DREG), ExpressionCodec.u32(a, MODULUS),
                ExpressionCodec.u32(a, TYPE) == NFT_NG_RANDOM, ExpressionCodec.u32(a, OFFSET, 0));
    }
}
