package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/** {@code cmp}: compares the first {@code data.length()} bytes of a register with a value; no match ends the rule. */
public record Cmp(Op op, int source, Data data) implements Expression {

    static final String NAME = "cmp";
    private static final int SREG = 1;
    private static final int OP = 2;
    private static final int DATA = 3;

    /** enum nft_cmp_ops. */
    public enum Op { EQ, NEQ, LT, LTE, GT, GTE }

    public Cmp {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(data, "data");
        ExpressionCodec.register("cmp source", source);
    }

    public static Cmp eq(int source, Data data) {
        return new Cmp(Op.EQ, source, data);
    }

    public static Cmp neq(int source, Data data) {
        return new Cmp(Op.NEQ, source, data);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(SREG, source).putBe32(OP, op.ordinal());
        ExpressionCodec.putData(w, DATA, data);
    }

    static Cmp decode(List<NetlinkAttribute> a) {
        int op = ExpressionCodec.u32(a, OP);
        if (op < 0 || op >= Op.values().length) {
            throw new IllegalArgumentException("cmp op " + op);
        }
        return new Cmp(Op.values()[op], ExpressionCodec.u32(a, SREG),
                Objects.requireNonNull(ExpressionCodec.data(a, DATA), "cmp data"));
    }
}
