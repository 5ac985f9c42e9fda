package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * An expression this client does not model (read from a rule someone else wrote, or a form we do
 * not build): its name and its attributes as the kernel sent them, so it can be shown and compared,
 * and sent back unchanged.
 */
public record UnknownExpression(String kind, byte[] attributes) implements Expression {

    public UnknownExpression {
        Objects.requireNonNull(kind, "kind");
        attributes = attributes.clone();
    }

    static UnknownExpression of(String kind, List<NetlinkAttribute> data) {
        AttributeWriter w = new AttributeWriter();
        for (NetlinkAttribute a : data) {
            w.put(a.rawType(), a.bytes());
        }
        return new UnknownExpression(kind, w.toByteArray());
    }

    void encode(AttributeWriter w) {
        w.header(attributes);
    }

    @Override
    public byte[] attributes() {
        return attributes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UnknownExpression u && kind.equals(u.kind) && Arrays.equals(attributes, u.attributes);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Arrays.hashCode(attributes);
    }

    @Override
    public String toString() {
        return "UnknownExpression[" + kind + ", " + HexFormat.of().formatHex(attributes) + "]";
    }
}
