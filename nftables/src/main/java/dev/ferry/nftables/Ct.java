package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code ct}: loads a conntrack field into a register ({@code ct state}, {@code ct status},
 * {@code ct original ip daddr}).
 *
 * @param direction for per-direction keys (addresses, ports): 0 original, 1 reply; -1 for none
 */
public record Ct(Key key, int destination, int direction) implements Expression {

    static final String NAME = "ct";
    private static final int DREG = 1;
    private static final int KEY = 2;
    private static final int DIRECTION = 3;
    private static final int SREG = 4;

    /** State bits (NF_CT_STATE_*_BIT) and status bits (IPS_*), in host order as the kernel loads them. */
    public static final int STATE_INVALID = 1;
    public static final int STATE_ESTABLISHED = 2;
    public static final int STATE_RELATED = 4;
    public static final int STATE_NEW = 8;
    public static final int STATUS_SNAT = 0x10;
    public static final int STATUS_DNAT = 0x20;

    /** enum nft_ct_keys (the ones the ruleset uses). */
    public enum Key {
        STATE(0), DIRECTION(1), STATUS(2), MARK(3), L3PROTOCOL(7), SRC(8), DST(9), PROTOCOL(10), PROTO_SRC(11),
        PROTO_DST(12), SRC_IP(19), DST_IP(20), SRC_IP6(21), DST_IP6(22);

        final int number;

        Key(int number) {
            this.number = number;
        }

        static Key of(int number) {
            return ExpressionCodec.byNumber(values(), k -> k.number, number, "ct key");
        }
    }

    public Ct {
        Objects.requireNonNull(key, "key");
        ExpressionCodec.register("ct destination", destination);
        if (direction < -1 || direction > 1) {
            throw new IllegalArgumentException("ct direction " + direction + ": 0 original, 1 reply, -1 none");
        }
    }

    public static Ct load(Key key, int destination) {
        return new Ct(key, destination, -1);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(KEY, key.number).putBe32(DREG, destination);
        if (direction >= 0) {
            w.putU8(DIRECTION, direction);
        }
    }

    static Ct decode(List<NetlinkAttribute> a) {
        if (ExpressionCodec.find(a, SREG).isPresent()) {
            throw new IllegalArgumentException("ct set");
        }
        return new Ct(Key.of(ExpressionCodec.u32(a, KEY)), ExpressionCodec.u32(a, DREG),
                ExpressionCodec.find(a, DIRECTION).map(NetlinkAttribute::u8).orElse(-1));
    }
}
