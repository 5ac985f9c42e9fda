package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code immediate}: puts a value into a register (a NAT address or port), or a verdict into the
 * verdict register ({@code accept}, {@code drop}, {@code jump X}, {@code goto X}, {@code return}).
 *
 * @param data    the value; null for a verdict
 * @param verdict the verdict; null for a value
 */
public record Immediate(int destination, Data data, Verdict verdict) implements Expression {

    static final String NAME = "immediate";
    private static final int DREG = 1;
    private static final int DATA = 2;

    public Immediate {
        if ((data == null) == (verdict == null)) {
            throw new IllegalArgumentException("immediate: give a value or a verdict, not both or neither");
        }
        ExpressionCodec.register("immediate destination", destination);
        if ((verdict != null) != (destination == VERDICT)) {
            throw new IllegalArgumentException("immediate: a verdict goes to register 0 and only a verdict does");
        }
    }

    public static Immediate verdict(Verdict verdict) {
        return new Immediate(VERDICT, null, Objects.requireNonNull(verdict, "verdict"));
    }

    public static Immediate value(int destination, Data data) {
        return new Immediate(destination, Objects.requireNonNull(data, "data"), null);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(DREG, destination);
        if (verdict != null) {
            ExpressionCodec.putVerdict(w, DATA, verdict);
        } else {
            ExpressionCodec.putData(w, DATA, data);
        }
    }

    static Immediate decode(List<NetlinkAttribute> a) {
        Verdict v = ExpressionCodec.verdict(a, DATA);
        return new Immediate(ExpressionCodec.u32(a, DREG), v == null ? ExpressionCodec.data(a, DATA) : null, v);
    }
}
