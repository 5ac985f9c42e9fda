package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;

import java.util.List;
import java.util.Objects;

/**
 * {@code nat}: DNAT or SNAT to the address (and port) held in registers, put there before by
 * {@link Immediate} or a map {@link Lookup} ({@code dnat to 10.0.0.1:80}: immediate reg 1 = address,
 * immediate reg 2 = port, nat with flags {@link #PROTO_SPECIFIED}). A register of 0 is not sent.
 *
 * @param family NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10)
 */
public record Nat(Type type, int family, int addressMin, int addressMax, int portMin, int portMax, int flags)
        implements Expression {

    static final String NAME = "nat";
    private static final int TYPE = 1;
    private static final int FAMILY = 2;
    private static final int REG_ADDR_MIN = 3;
    private static final int REG_ADDR_MAX = 4;
    private static final int REG_PROTO_MIN = 5;
    private static final int REG_PROTO_MAX = 6;
    private static final int FLAGS = 7;

    /** NF_NAT_RANGE_* flags. */
    public static final int MAP_IPS = 1;
    public static final int PROTO_SPECIFIED = 2;
    public static final int PROTO_RANDOM = 4;
    public static final int PERSISTENT = 8;
    public static final int PROTO_RANDOM_FULLY = 0x10;

    /** enum nft_nat_types. */
    public enum Type { SNAT, DNAT }

    public Nat {
        Objects.requireNonNull(type, "type");
        if (family != TableFamily.IPV4.number() && family != TableFamily.IPV6.number()) {
            throw new IllegalArgumentException("nat family " + family + ": must be 2 (ip) or 10 (ip6)");
        }
        for (int r : new int[] {addressMin, addressMax, portMin, portMax}) {
            ExpressionCodec.register("nat", r);
        }
        if (flags < 0 || flags > 0xff) {
            throw new IllegalArgumentException("nat flags " + flags);
        }
    }

    /** {@code dnat to <address in addressRegister>:<port in portRegister>}; portRegister 0 for no port. */
    public static Nat dnat(TableFamily family, int addressRegister, int portRegister) {
        return new Nat(Type.DNAT, family.number(), addressRegister, 0, portRegister, 0,
                portRegister == 0 ? 0 : PROTO_SPECIFIED);
    }

    @Override
    public String kind() {
        return NAME;
    }

    void encode(AttributeWriter w) {
        w.putBe32(TYPE, type.ordinal()).putBe32(FAMILY, family);
        putRegister(w, REG_ADDR_MIN, addressMin);
        putRegister(w, REG_ADDR_MAX, addressMax);
        putRegister(w, REG_PROTO_MIN, portMin);
        putRegister(w, REG_PROTO_MAX, portMax);
        if (flags != 0) {
            w.putBe32(FLAGS, flags);
        }
    }

    /** The flags as the kernel keeps them: it adds MAP_IPS for an address and PROTO_SPECIFIED for a port. */
    int effectiveFlags() {
        return flags | (addressMin != 0 ? MAP_IPS : 0) | (portMin != 0 ? PROTO_SPECIFIED : 0);
    }

    /** Equal when the kernel runs them alike: same type, family, registers and {@link #effectiveFlags()}. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Nat n && type == n.type && family == n.family && addressMin == n.addressMin
                && addressMax == n.addressMax && portMin == n.portMin && portMax == n.portMax
                && effectiveFlags() == n.effectiveFlags();
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(type, family, addressMin, addressMax, portMin, portMax, effectiveFlags());
    }

    private static void putRegister(AttributeWriter w, int type, int register) {
        if (register != 0) {
            w.putBe32(type, register);
        }
    }

    static Nat decode(List<NetlinkAttribute> a) {
        int type = ExpressionCodec.u32(a, TYPE);
        if (type < 0 || type > 1) {
            throw new IllegalArgumentException("nat type " + type);
        }
        // The kernel reports a missing maximum as the minimum's register: read back as missing.
        int addressMin = ExpressionCodec.u32(a, REG_ADDR_MIN, 0);
        int addressMax = ExpressionCodec.u32(a, REG_ADDR_MAX, 0);
        int portMin = ExpressionCodec.u32(a, REG_PROTO_MIN, 0);
        int portMax = ExpressionCodec.u32(a, REG_PROTO_MAX, 0);
        return new Nat(Type.values()[type], ExpressionCodec.u32(a, FAMILY), addressMin,
                addressMax == addressMin ? 0 : addressMax, portMin, portMax == portMin ? 0 : portMax,
                ExpressionCodec.u32(a, FLAGS, 0));
    }
}
