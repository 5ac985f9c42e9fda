package dev.ferry.nftables;

/**
 * The nft data types a set's key or a map's data is made of (nft's datatype ids, which nft stores
 * in NFTA_SET_KEY_TYPE and the kernel keeps for it), with their length and the byte order nft
 * records for them in the set's user data. A concatenation is a list of them.
 */
public enum DataType {
    VERDICT(1, 0, 0, "verdict"),
    INTEGER(4, 4, 1, "integer"),
    IPV4_ADDR(7, 4, 2, "ipv4_addr"),
    IPV6_ADDR(8, 16, 2, "ipv6_addr"),
    INET_PROTO(12, 1, 2, "inet_proto"),
    INET_SERVICE(13, 2, 2, "inet_service"),
    MARK(19, 4, 1, "mark");

    /** nft's TYPE_BITS: a concatenation's type id packs its fields' ids in 6 bits each. */
    static final int TYPE_BITS = 6;

    private final int id;
    private final int length;
    private final int byteOrder;
    private final String nftName;

    DataType(int id, int length, int byteOrder, String nftName) {
        this.id = id;
        this.length = length;
        this.byteOrder = byteOrder;
        this.nftName = nftName;
    }

    int id() {
        return id;
    }

    /** Bytes of a value; 0 for a verdict. */
    int length() {
        return length;
    }

    /** nft's enum byteorder: 1 host, 2 big-endian. */
    int byteOrder() {
        return byteOrder;
    }

    /** "ipv4_addr": as nft writes it in a set's type. */
    public String nftName() {
        return nftName;
    }

    static DataType of(int id) {
        return ExpressionCodec.byNumber(values(), DataType::id, id, "nft data type");
    }
}
