package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * An nf_tables set or map (a map has data: a verdict for a verdict map, or values). Keys and data
 * are a data type or a concatenation of them ({@code ipv4_addr . inet_proto . inet_service}). An
 * anonymous set lives in one rule; it gets its name ({@code __set%d}, {@code __map%d}, the kernel
 * fills in the number) and a batch id from {@link Nftables#addSet}, and the rule's lookup names it
 * by that id.
 *
 * @param data    empty for a set; {@code [VERDICT]} for a verdict map; the value's types for a data map
 * @param timeout the default element timeout (flag {@link Flag#TIMEOUT}); null for none
 * @param comment null for none
 * @param id      the set's id in the batch that adds it; 0 until {@link Nftables#addSet} gives it one
 * @param typeof  where the key's (and data's) fields come from, for nft to print them; null for a set
 *                declared by type alone (which nft prints from the data types, except integers)
 */
public record NftSet(Table table, String name, List<DataType> key, List<DataType> data, Set<Flag> flags,
                     Duration timeout, String comment, int id, Typeof typeof) {

    /** nft's {@code typeof}: the fields of the key, and of a map's data (empty for a set or a verdict map). */
    public record Typeof(List<SetField> key, List<SetField> data) {
        public Typeof {
            key = List.copyOf(key);
            data = List.copyOf(data);
        }
    }

    /** NFT_SET_* flags (a map's NFT_SET_MAP follows from its data). */
    public enum Flag {
        ANONYMOUS(1), CONSTANT(2), INTERVAL(4), TIMEOUT(0x10), DYNAMIC(0x20);

        final int bit;

        Flag(int bit) {
            this.bit = bit;
        }
    }

    static final int NFT_SET_MAP = 8;

    public NftSet {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(name, "name");
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > Table.NAME_MAX_BYTES || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("set name \"" + name + "\": must be 1 to " + Table.NAME_MAX_BYTES
                    + " bytes without NUL");
        }
        key = List.copyOf(key);
        data = List.copyOf(data);
        flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
        if (key.isEmpty() || key.contains(DataType.VERDICT)) {
            throw new IllegalArgumentException("set " + name + ": the key needs at least one type, and no verdict");
        }
        if (data.contains(DataType.VERDICT) && data.size() > 1) {
            throw new IllegalArgumentException("set " + name + ": a verdict map's data is the verdict alone");
        }
        if (flags.contains(Flag.INTERVAL) && key.size() > 1) {
            throw new IllegalArgumentException("set " + name + ": interval concatenations are not supported");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero() || !flags.contains(Flag.TIMEOUT))) {
            throw new IllegalArgumentException("set " + name + ": a timeout must be positive and needs flag timeout");
        }
        Userdata.checkComment(comment);
        if (id < 0) {
            throw new IllegalArgumentException("set " + name + ": id " + id);
        }
        if (typeof != null && (!typeof.key().stream().map(SetField::type).toList().equals(key)
                || !typeof.data().isEmpty() && !typeof.data().stream().map(SetField::type).toList().equals(data))) {
            throw new IllegalArgumentException("set " + name + ": typeof " + typeof + " does not match the types "
                    + key + " : " + data);
        }
    }

    /** A named set (data empty) or data map whose fields are declared by where they come from ({@code typeof}). */
    public static NftSet typeof(Table table, String name, List<SetField> key, List<SetField> data) {
        return new NftSet(table, name, key.stream().map(SetField::type).toList(),
                data.stream().map(SetField::type).toList(), Set.of(), null, null, 0, new Typeof(key, data));
    }

    /** A named set of {@code key}, no flags. */
    public static NftSet of(Table table, String name, DataType... key) {
        return new NftSet(table, name, List.of(key), List.of(), Set.of(), null, null, 0, null);
    }

    /** A named verdict map of {@code key}. */
    public static NftSet verdictMap(Table table, String name, DataType... key) {
        return new NftSet(table, name, List.of(key), List.of(DataType.VERDICT), Set.of(), null, null, 0, null);
    }

    /**
     * An anonymous constant set (or map, with {@code data}) for one rule; {@code interval} for a set
     * of ranges and prefixes.
     */
    public static NftSet anonymous(Table table, List<DataType> key, List<DataType> data, boolean interval) {
        Set<Flag> flags = EnumSet.of(Flag.ANONYMOUS, Flag.CONSTANT);
        if (interval) {
            flags.add(Flag.INTERVAL);
        }
        return new NftSet(table, data.isEmpty() ? "__set%d" : "__map%d", key, data, flags, null, null, 0, null);
    }

    public NftSet withFlags(Set<Flag> flags) {
        return new NftSet(table, name, key, data, flags, timeout, comment, id, typeof);
    }

    public NftSet withTimeout(Duration timeout) {
        return new NftSet(table, name, key, data, flags, timeout, comment, id, typeof);
    }

    public NftSet withComment(String comment) {
        return new NftSet(table, name, key, data, flags, timeout, comment, id, typeof);
    }

    NftSet withId(int id) {
        return new NftSet(table, name, key, data, flags, timeout, comment, id, typeof);
    }

    public boolean isMap() {
        return !data.isEmpty();
    }

    public boolean isAnonymous() {
        return flags.contains(Flag.ANONYMOUS);
    }

    /** NEWSET, in nft's order: table, name, flags, key type and length, data type and length, id, desc, timeout, udata. */
    byte[] addPayload(int size) {
        int bits = isMap() ? NFT_SET_MAP : 0;
        for (Flag f : flags) {
            bits |= f.bit;
        }
        AttributeWriter w = names().putBe32(NftNumbers.NFTA_SET_FLAGS, bits)
                .putBe32(NftNumbers.NFTA_SET_KEY_TYPE, typeId(key)).putBe32(NftNumbers.NFTA_SET_KEY_LEN, length(key));
        if (isMap()) {
            boolean verdict = data.get(0) == DataType.VERDICT;
            w.putBe32(NftNumbers.NFTA_SET_DATA_TYPE, verdict ? NftNumbers.NFT_DATA_VERDICT : typeId(data))
                    .putBe32(NftNumbers.NFTA_SET_DATA_LEN, verdict ? 0 : length(data));
        }
        if (id != 0) {
            w.putBe32(NftNumbers.NFTA_SET_ID, id);
        }
        if (isAnonymous()) {
            w.beginNested(NftNumbers.NFTA_SET_DESC).putBe32(NftNumbers.NFTA_SET_DESC_SIZE, size).endNested();
        }
        if (timeout != null) {
            w.put(NftNumbers.NFTA_SET_TIMEOUT, Rule.be64(timeout.toMillis()));
        }
        return w.put(NftNumbers.NFTA_SET_USERDATA, userdata()).toByteArray();
    }

    /**
     * nft 1.0.6's user data for a set declared by type: the key's byte order, the data's (maps), a
     * typeof marker for concatenations (so nft prints the fields), whether map data are intervals, the comment.
     */
    private byte[] userdata() {
        Userdata u = new Userdata().u32(Userdata.SET_KEYBYTEORDER, byteOrder(key));
        if (isMap()) {
            u.u32(Userdata.SET_DATABYTEORDER, byteOrder(data));
        }
        if (typeof != null) {
            u.put(Userdata.SET_KEY_TYPEOF, SetField.typeof(typeof.key()));
        } else if (key.size() > 1 && !isAnonymous()) {
            u.put(Userdata.SET_KEY_TYPEOF, CONCAT_TYPEOF);
        }
        if (isMap()) {
            if (typeof != null && !typeof.data().isEmpty()) {
                u.put(Userdata.SET_DATA_TYPEOF, SetField.typeof(typeof.data()));
            } else if (data.size() > 1 && !isAnonymous()) {
                u.put(Userdata.SET_DATA_TYPEOF, CONCAT_TYPEOF);
            } else if (isAnonymous() && data.get(0) == DataType.VERDICT) {
                u.put(Userdata.SET_DATA_TYPEOF, VERDICT_TYPEOF);
            }
            u.u32(Userdata.SET_DATA_INTERVAL, 0);
        }
        if (comment != null) {
            u.string(Userdata.SET_COMMENT, comment);
        }
        return u.bytes();
    }

    /** {TYPEOF_EXPR = EXPR_CONCAT, TYPEOF_DATA = {}}: nft's mark of a concatenation declared by type. */
    private static final byte[] CONCAT_TYPEOF = new Userdata().u32(Userdata.TYPEOF_EXPR, Userdata.EXPR_CONCAT)
            .put(Userdata.TYPEOF_DATA, new byte[0]).bytes();

    /** {TYPEOF_EXPR = EXPR_VERDICT, TYPEOF_DATA = {}}: what nft writes for an anonymous verdict map's data. */
    private static final byte[] VERDICT_TYPEOF = new Userdata().u32(Userdata.TYPEOF_EXPR, 1)
            .put(Userdata.TYPEOF_DATA, new byte[0]).bytes();

    private static int byteOrder(List<DataType> types) {
        return types.size() == 1 ? types.get(0).byteOrder() : 0;
    }

    static int typeId(List<DataType> types) {
        int id = 0;
        for (DataType t : types) {
            id = (id << DataType.TYPE_BITS) | t.id();
        }
        return id;
    }

    /** A key's length: one field as it is, a concatenation's fields padded to 4 bytes each. */
    static int length(List<DataType> types) {
        if (types.size() == 1) {
            return types.get(0).length();
        }
        int n = 0;
        for (DataType t : types) {
            n += Data.padded(t.length());
        }
        return n;
    }

    /**
     * Refuses an element that cannot be in this set: a key of another length than the key type's, a value of
     * the wrong kind or length for a map (a deleted element needs only its key), a value in a plain set.
     */
    void check(Element e, boolean adding) {
        String what = describe() + ", element " + e.key();
        if (e.key().length() != length(key)) {
            throw new IllegalArgumentException(what + ": key of " + e.key().length() + " bytes, the set's key type "
                    + key + " has " + length(key));
        }
        boolean hasValue = e.verdict() != null || e.data() != null;
        if (!isMap() || e.intervalEnd()) {
            if (hasValue) {
                throw new IllegalArgumentException(what + ": a value in a set (or on an interval end)");
            }
            return;
        }
        boolean verdictMap = data.get(0) == DataType.VERDICT;
        if (!adding && !hasValue) {
            return;
        }
        if (verdictMap ? e.verdict() == null : e.data() == null || e.data().length() != length(data)) {
            throw new IllegalArgumentException(what + ": the map's values are " + (verdictMap ? "verdicts"
                    : data + " (" + length(data) + " bytes)") + ", got " + (e.verdict() != null ? e.verdict() : e.data()));
        }
    }

    /** DELSET, and DELSETELEM without elements (flush): table and name. */
    byte[] namePayload() {
        return names().toByteArray();
    }

    private AttributeWriter names() {
        return new AttributeWriter().header(NftNumbers.nfgenmsg(table.family().number(), 0))
                .putString(NftNumbers.NFTA_SET_TABLE, table.name()).putString(NftNumbers.NFTA_SET_NAME, name);
    }

    /** The set a NEWSET message (an answer to GETSET) describes. */
    static NftSet decode(NetlinkMessage message) {
        TableFamily family = NftNumbers.family(message);
        List<NetlinkAttribute> a = NftNumbers.attributes(message);
        int bits = ExpressionCodec.u32(a, NftNumbers.NFTA_SET_FLAGS, 0);
        Set<Flag> flags = EnumSet.noneOf(Flag.class);
        for (Flag f : Flag.values()) {
            if ((bits & f.bit) != 0) {
                flags.add(f);
            }
        }
        List<DataType> data = List.of();
        if ((bits & NFT_SET_MAP) != 0) {
            long dataType = ExpressionCodec.u32(a, NftNumbers.NFTA_SET_DATA_TYPE) & 0xffffffffL;
            data = dataType == NftNumbers.NFT_DATA_VERDICT ? List.of(DataType.VERDICT) : types((int) dataType);
        }
        Duration timeout = ExpressionCodec.find(a, NftNumbers.NFTA_SET_TIMEOUT).map(t -> Duration.ofMillis(t.be64()))
                .filter(t -> !t.isZero()).orElse(null);
        byte[] udata = ExpressionCodec.find(a, NftNumbers.NFTA_SET_USERDATA).map(NetlinkAttribute::bytes).orElse(null);
        List<DataType> key = types(ExpressionCodec.u32(a, NftNumbers.NFTA_SET_KEY_TYPE));
        return new NftSet(new Table(family, ExpressionCodec.string(a, NftNumbers.NFTA_SET_TABLE)),
                ExpressionCodec.string(a, NftNumbers.NFTA_SET_NAME), key, data, flags, timeout,
                Userdata.findString(udata, Userdata.SET_COMMENT), 0, typeof(udata, key, data));
    }

    /** The typeof of a set's user data when it declares its fields (not the marker of a plain concatenation). */
    private static Typeof typeof(byte[] udata, List<DataType> key, List<DataType> data) {
        byte[] keyTypeof = Userdata.find(udata, Userdata.SET_KEY_TYPEOF);
        if (keyTypeof == null || Arrays.equals(keyTypeof, CONCAT_TYPEOF)) {
            return null;
        }
        List<SetField> keyFields = SetField.parse(keyTypeof, key);
        byte[] dataTypeof = Userdata.find(udata, Userdata.SET_DATA_TYPEOF);
        List<SetField> dataFields = dataTypeof == null || Arrays.equals(dataTypeof, CONCAT_TYPEOF)
                || Arrays.equals(dataTypeof, VERDICT_TYPEOF) ? List.of() : SetField.parse(dataTypeof, data);
        return keyFields == null || dataFields == null ? null : new Typeof(keyFields, dataFields);
    }

    /** The data types a (concatenated) type id packs, first field first. */
    static List<DataType> types(int id) {
        List<DataType> out = new ArrayList<>();
        int rest = id;
        int mask = (1 << DataType.TYPE_BITS) - 1;
        while (rest != 0) {
            out.add(0, DataType.of(rest & mask));
            rest >>>= DataType.TYPE_BITS;
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("set key type 0");
        }
        return out;
    }

    /** "map ip kube-proxy service-ips". */
    String describe() {
        return (isMap() ? "map " : "set ") + table.family().nftName() + " " + table.name() + " " + name;
    }
}
