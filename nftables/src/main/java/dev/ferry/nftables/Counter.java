package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;

/**
 * {@code counter}: counts packets and bytes. Sent empty (starting at zero), as nft sends it; the
 * kernel reports the counts when rules are listed, which {@link #equals} therefore ignores.
 */
public record Counter(long packets, long bytes) implements Expression {

    static final String NAME = "counter";
    private static final int BYTES = 1;
    private static final int PACKETS = 2;

    public static final Counter ZERO = new Counter(0, 0);

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        // nothing: a new counter starts at zero
    }

    static Counter decode(List<NetlinkAttribute> a) {
        return new Counter(ExpressionCodec.find(a, PACKETS).map(NetlinkAttribute::be64).orElse(0L),
                ExpressionCodec.find(a, BYTES).map(NetlinkAttribute::be64).orElse(0L));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Counter;
    }

    @Override
    public int hashCode() {
        return 1;
    }
}
