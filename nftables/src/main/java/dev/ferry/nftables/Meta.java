package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code meta}: loads packet metadata into a register ({@code meta l4proto}, {@code meta mark},
 * {@code iifname}), or, as a statement, sets it from one ({@code meta mark set ...}).
 *
 * @param register the destination of a load, or the source of a set
 * @param set      true for {@code meta KEY set}, false for a load
 */
public record Meta(Key key, int register, boolean set) implements Expression {

    static final String NAME = "meta";
    private static final int DREG = 1;
    private static final int KEY = 2;
    private static final int SREG = 3;

    /** enum nft_meta_keys (the ones the ruleset uses). */
    public enum Key {
        MARK(3), IIF(4), OIF(5), IIFNAME(6), OIFNAME(7), NFPROTO(15), L4PROTO(16);

        final int number;

        Key(int number) {
            this.number = number;
        }

        static Key of(int number) {
            return ExpressionCodec.byNumber(values(), k -> k.number, number, "meta key");
        }
    }

    public Meta {
        Objects.requireNonNull(key, "key");
        ExpressionCodec.register("meta", register);
    }

    public static Meta load(Key key, int destination) {
        return new Meta(key, destination, false);
    }

    public static Meta set(Key key, int source) {
        return new Meta(key, source, true);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(KEY, key.number).putBe32(set ? SREG : DREG, register);
    }

    static Meta decode(List<NetlinkAttribute> a) {
        Key key = Key.of(ExpressionCodec.u32(a, KEY));
        return ExpressionCodec.find(a, SREG).isPresent() ? set(key, ExpressionCodec.u32(a, SREG))
                : load(key, ExpressionCodec.u32(a, DREG));
    }
}
