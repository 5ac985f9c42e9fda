package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * {@code dynset}: adds or updates the key in {@code source} in a set from the packet path ({@code
 * update @affinity-X { ip saddr }}: ClientIP affinity). With no timeout the set's default applies.
 *
 * @param timeout the element's timeout, or null for the set's
 */
public record Dynset(String set, int setId, Op op, int source, Duration timeout) implements Expression {

    static final String NAME = "dynset";
    private static final int SET_NAME = 1;
    private static final int SET_ID = 2;
    private static final int OP = 3;
    private static final int SREG_KEY = 4;
    private static final int SREG_DATA = 5;
    private static final int TIMEOUT = 6;

    /** enum nft_dynset_ops. */
    public enum Op { ADD, UPDATE, DELETE }

    public Dynset {
        Objects.requireNonNull(set, "set");
        Objects.requireNonNull(op, "op");
        ExpressionCodec.register("dynset source", source);
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("dynset timeout " + timeout + ": must be positive");
        }
    }

    /** {@code update @set { KEY }} with the set's timeout. */
    public static Dynset update(NftSet set, int source) {
        return new Dynset(set.name(), set.id(), Op.UPDATE, source, null);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(SREG_KEY, source).putBe32(OP, op.ordinal()).putString(SET_NAME, set);
        if (setId != 0) {
            w.putBe32(SET_ID, setId);
        }
        if (timeout != null) {
            w.put(TIMEOUT, java.nio.ByteBuffer.allocate(8).putLong(timeout.toMillis()).array());
        }
    }

    static Dynset decode(List<NetlinkAttribute> a) {
        int op = ExpressionCodec.u32(a, OP);
        if (op < 0 || op >= Op.values().length || ExpressionCodec.find(a, SREG_DATA).isPresent()) {
            throw new IllegalArgumentException("dynset op " + op + " or a map update");
        }
        Duration timeout = ExpressionCodec.find(a, TIMEOUT).map(t -> Duration.ofMillis(t.be64()))
                .filter(t -> !t.isZero()).orElse(null);
        return new Dynset(ExpressionCodec.string(a, SET_NAME), ExpressionCodec.u32(a, SET_ID, 0), Op.values()[op], ExpressionCodec.u32(a, SREG_KEY),
                timeout);
    }
}
