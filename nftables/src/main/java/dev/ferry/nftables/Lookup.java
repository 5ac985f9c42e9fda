package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code lookup}: looks the key in {@code source} (and the registers after it, for a
 * concatenation) up in a set: no match ends the rule ({@code ip daddr @cluster-ips}); inverted,
 * a match does ({@code != @set}). In a map, the value goes to {@code destination}: register 0 for
 * a verdict map ({@code vmap @service-ips}), a data register for a data map.
 *
 * @param set         the set's name ("__map%d" for an anonymous set of this batch)
 * @param setId       the set's id in the batch that creates it (anonymous sets need it), 0 for none
 * @param destination the map value's register, or -1 for a plain set
 */
public record Lookup(String set, int setId, int source, int destination, boolean inverted) implements Expression {

    static final String NAME = "lookup";
    private static final int SET = 1;
    private static final int SREG = 2;
    private static final int DREG = 3;
    private static final int SET_ID = 4;
    private static final int FLAGS = 5;
    private static final int NFT_LOOKUP_F_INV = 1;

    public Lookup {
        Objects.requireNonNull(set, "set");
        ExpressionCodec.register("lookup source", source);
        if (destination != -1) {
            ExpressionCodec.register("lookup destination", destination);
            if (inverted) {
                throw new IllegalArgumentException("lookup in map " + set + " cannot be inverted");
            }
        }
    }

    /** {@code KEY @set} (or {@code != @set}). */
    public static Lookup in(NftSet set, int source, boolean inverted) {
        return new Lookup(set.name(), set.id(), source, -1, inverted);
    }

    /** {@code KEY vmap @map} or {@code KEY map @map} into {@code destination}. */
    public static Lookup map(NftSet map, int source, int destination) {
        if (!map.isMap()) {
            throw new IllegalArgumentException(map + " is not a map");
        }
        return new Lookup(map.name(), map.id(), source, destination, false);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(SREG, source);
        if (destination != -1) {
            w.putBe32(DREG, destination);
        }
        w.putString(SET, set);
        if (setId != 0) {
            w.putBe32(SET_ID, setId);
        }
        if (inverted) {
            w.putBe32(FLAGS, NFT_LOOKUP_F_INV);
        }
    }

    static Lookup decode(List<NetlinkAttribute> a) {
        return new Lookup(ExpressionCodec.string(a, SET), ExpressionCodec.u32(a, SET_ID, 0), ExpressionCodec.u32(a, SREG),
                ExpressionCodec.u32(a, DREG, -1), (ExpressionCodec.u32(a, FLAGS, 0) & NFT_LOOKUP_F_INV) != 0);
    }
}
