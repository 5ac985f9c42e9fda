package dev.ferry.nftables;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where a field of a set's key (or a map's data) comes from, as nft's {@code typeof} declares it
 * ({@code typeof ip daddr . th dport . numgen random mod 2}). nft stores it in the set's user data and
 * needs it to print a set whose data type alone does not say how: nft 1.0.6 aborts listing a table
 * with a concatenation holding an {@code integer} (a numgen value) declared by type only.
 *
 * @param type       the field's data type
 * @param expression nft's expression type (EXPR_PAYLOAD 7, EXPR_META 9, EXPR_NUMGEN 23)
 * @param values     the expression's description in nft's order (payload: protocol and field; meta: key;
 *                   numgen: mode, modulus, offset)
 */
public record SetField(DataType type, int expression, List<Integer> values) {

    static final int EXPR_PAYLOAD = 7;
    static final int EXPR_META = 9;
    static final int EXPR_NUMGEN = 23;
    // nft's enum proto_desc_id and its header field numbers.
    private static final int PROTO_UDP = 6;
    private static final int PROTO_TCP = 8;
    private static final int PROTO_TH = 11;
    private static final int PROTO_IP = 12;
    private static final int PROTO_IP6 = 13;
    private static final int DPORT = 2;

    public SetField {
        Objects.requireNonNull(type, "type");
        values = List.copyOf(values);
    }

    public static SetField ipSource() {
        return payload(DataType.IPV4_ADDR, PROTO_IP, 11);
    }

    public static SetField ipDestination() {
        return payload(DataType.IPV4_ADDR, PROTO_IP, 12);
    }

    public static SetField ip6Source() {
        return payload(DataType.IPV6_ADDR, PROTO_IP6, 8);
    }

    public static SetField ip6Destination() {
        return payload(DataType.IPV6_ADDR, PROTO_IP6, 9);
    }

    /** {@code th dport}: any transport protocol's destination port. */
    public static SetField transportDestinationPort() {
        return payload(DataType.INET_SERVICE, PROTO_TH, DPORT);
    }

    public static SetField tcpDestinationPort() {
        return payload(DataType.INET_SERVICE, PROTO_TCP, DPORT);
    }

    public static SetField udpDestinationPort() {
        return payload(DataType.INET_SERVICE, PROTO_UDP, DPORT);
    }

    /** {@code meta l4proto}. */
    public static SetField l4proto() {
        return new SetField(DataType.INET_PROTO, EXPR_META, List.of(Meta.Key.L4PROTO.number));
    }

    /** {@code numgen random mod modulus}. */
    public static SetField numgenRandom(int modulus) {
        if (modulus < 1) {
            throw new IllegalArgumentException("numgen modulus " + modulus + ": at least 1");
        }
        return new SetField(DataType.INTEGER, EXPR_NUMGEN, List.of(1, modulus, 0));
    }

    private static SetField payload(DataType type, int protocol, int field) {
        return new SetField(type, EXPR_PAYLOAD, List.of(protocol, field));
    }

    /**
     * A typeof's user data: {TYPEOF_EXPR, TYPEOF_DATA} of the one field, or of a concatenation holding one
     * such pair per field, numbered from 0.
     */
    static byte[] typeof(List<SetField> fields) {
        if (fields.size() == 1) {
            return fields.get(0).udata();
        }
        Userdata subs = new Userdata();
        for (int i = 0; i < fields.size(); i++) {
            subs.put(i, fields.get(i).udata());
        }
        return new Userdata().u32(Userdata.TYPEOF_EXPR, Userdata.EXPR_CONCAT).put(Userdata.TYPEOF_DATA, subs.bytes())
                .bytes();
    }

    private byte[] udata() {
        Userdata data = new Userdata();
        for (int i = 0; i < values.size(); i++) {
            data.u32(i, values.get(i));
        }
        return new Userdata().u32(Userdata.TYPEOF_EXPR, expression).put(Userdata.TYPEOF_DATA, data.bytes()).bytes();
    }

    /** The fields a typeof's user data describes, given the set's data types; null when it is not one we read. */
    static List<SetField> parse(byte[] typeof, List<DataType> types) {
        List<byte[]> pair = Userdata.items(typeof);
        if (pair.size() != 2) {
            return null;
        }
        int expression = Userdata.u32(pair.get(0));
        List<byte[]> subs = expression == Userdata.EXPR_CONCAT ? Userdata.items(pair.get(1)) : List.of(typeof);
        if (subs.size() != types.size()) {
            return null;
        }
        List<SetField> out = new ArrayList<>();
        for (int i = 0; i < subs.size(); i++) {
            List<byte[]> sub = Userdata.items(subs.get(i));
            if (sub.size() != 2) {
                return null;
            }
            List<Integer> values = new ArrayList<>();
            for (byte[] v : Userdata.items(sub.get(1))) {
                values.add(Userdata.u32(v));
            }
            out.add(new SetField(types.get(i), Userdata.u32(sub.get(0)), values));
        }
        return out;
    }
}
