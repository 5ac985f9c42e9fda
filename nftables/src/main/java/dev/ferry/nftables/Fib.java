package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code fib}: a routing lookup into a register; {@code fib daddr type local} is {@link #daddrType}
 * followed by a cmp with RTN_LOCAL ({@link #RTN_LOCAL}, host order).
 *
 * @param flags NFTA_FIB_F_* ({@link #SADDR}, {@link #DADDR}, ...)
 */
public record Fib(int destination, Result result, int flags) implements Expression {

    static final String NAME = "fib";
    private static final int DREG = 1;
    private static final int RESULT = 2;
    private static final int FLAGS = 3;

    public static final int SADDR = 1;
    public static final int DADDR = 2;
    public static final int MARK = 4;
    public static final int IIF = 8;
    public static final int OIF = 0x10;
    /** The route type of a local address (enum rtn_type). */
    public static final int RTN_LOCAL = 2;

    /** enum nft_fib_result (0 is unspecified). */
    public enum Result { UNSPEC, OIF, OIFNAME, ADDRTYPE }

    public Fib {
        Objects.requireNonNull(result, "result");
        ExpressionCodec.register("fib destination", destination);
        if ((flags & (SADDR | DADDR)) == 0 || (flags & (SADDR | DADDR)) == (SADDR | DADDR)) {
            throw new IllegalArgumentException("fib flags " + flags + ": exactly one of saddr and daddr");
        }
    }

    /** {@code fib daddr type} (or {@code saddr} when {@code source}) into {@code destination}. */
    public static Fib addressType(boolean source, int destination) {
        return new Fib(destination, Result.ADDRTYPE, source ? SADDR : DADDR);
    }

    /** {@code fib daddr type} into {@code destination}. */
    public static Fib daddrType(int destination) {
        return addressType(false, destination);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(FLAGS, flags).putBe32(RESULT, result.ordinal()).putBe32(DREG, destination);
    }

    static Fib decode(List<NetlinkAttribute> a) {
        int result = ExpressionCodec.u32(a, RESULT);
        if (result < 0 || result >= Result.values().length) {
            throw new IllegalArgumentException("fib result " + result);
        }
        return new Fib(ExpressionCodec.u32(a, DREG), Result.values()[result], ExpressionCodec.u32(a, FLAGS));
    }
}
