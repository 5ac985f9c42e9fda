package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;

/** {@code masquerade}: SNAT to the outgoing interface's address; {@code fully-random} is flag {@link Nat#PROTO_RANDOM_FULLY}. */
public record Masq(int flags) implements Expression {

    static final String NAME = "masq";
    private static final int FLAGS = 1;
    private static final int REG_PROTO_MIN = 2;

    public static final Masq FULLY_RANDOM = new Masq(Nat.PROTO_RANDOM_FULLY);

    public Masq {
        if (flags < 0 || flags > 0xff) {
            throw new IllegalArgumentException("masq flags " + flags);
        }
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        if (flags != 0) {
            w.putBe32(FLAGS, flags);
        }
    }

    static Masq decode(List<NetlinkAttribute> a) {
        if (ExpressionCodec.find(a, REG_PROTO_MIN).isPresent()) {
            throw new IllegalArgumentException("masquerade to ports");
        }
        return new Masq(ExpressionCodec.u32(a, FLAGS, 0));
    }
}
