package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code reject}: drops the packet and answers it. nft's plain {@code reject} in an {@code ip}
 * table is ICMP port unreachable ({@link #PORT_UNREACHABLE}); in {@code ip6}, ICMPv6 port
 * unreachable ({@link #PORT_UNREACHABLE_V6}); {@code with tcp reset} is {@link #TCP_RESET}; in an
 * {@code inet} table, {@code with icmpx port-unreachable} is {@link #ICMPX_PORT_UNREACHABLE}.
 *
 * @param code the ICMP (or ICMPv6, or icmpx) code; 0 for a TCP reset
 */
public record Reject(Type type, int code) implements Expression {

    static final String NAME = "reject";
    private static final int TYPE = 1;
    private static final int ICMP_CODE = 2;

    /** enum nft_reject_types. */
    public enum Type { ICMP_UNREACH, TCP_RST, ICMPX_UNREACH }

    public static final Reject PORT_UNREACHABLE = new Reject(Type.ICMP_UNREACH, 3);
    public static final Reject PORT_UNREACHABLE_V6 = new Reject(Type.ICMP_UNREACH, 4);
    public static final Reject TCP_RESET = new Reject(Type.TCP_RST, 0);
    public static final Reject ICMPX_PORT_UNREACHABLE = new Reject(Type.ICMPX_UNREACH, 1);

    public Reject {
        Objects.requireNonNull(type, "type");
        if (code < 0 || code > 0xff) {
            throw new IllegalArgumentException("reject code " + code);
        }
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(TYPE, type.ordinal()).putU8(ICMP_CODE, code);
    }

    static Reject decode(List<NetlinkAttribute> a) {
        int type = ExpressionCodec.u32(a, TYPE);
        if (type < 0 || type >= Type.values().length) {
            throw new IllegalArgumentException("reject type " + type);
        }
        return new Reject(Type.values()[type], ExpressionCodec.find(a, ICMP_CODE).map(NetlinkAttribute::u8).orElse(0));
    }
}
