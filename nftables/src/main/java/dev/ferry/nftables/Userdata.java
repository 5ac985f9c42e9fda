package dev.ferry.nftables;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * nft's user data (libnftnl's udata): what nft stores in the kernel for itself (comments, how to
 * print a set's keys), the kernel keeps opaque. A sequence of TLVs: type byte, length byte, value;
 * integers in host order; strings NUL-terminated. We write what nft 1.0.6 writes so that nft lists
 * our objects as it lists its own.
 */
final class Userdata {

    /** NFTNL_UDATA_{TABLE,CHAIN,RULE,SET_ELEM}_COMMENT. */
    static final int COMMENT = 0;
    static final int SET_KEYBYTEORDER = 0;
    static final int SET_DATABYTEORDER = 1;
    static final int SET_MERGE_ELEMENTS = 2;
    static final int SET_KEY_TYPEOF = 3;
    static final int SET_DATA_TYPEOF = 4;
    static final int SET_DATA_INTERVAL = 6;
    static final int SET_COMMENT = 7;
    /** NFTNL_UDATA_SET_TYPEOF_EXPR and _DATA, inside a typeof. */
    static final int TYPEOF_EXPR = 0;
    static final int TYPEOF_DATA = 1;
    /** nft's EXPR_CONCAT. */
    static final int EXPR_CONCAT = 13;
    /** NFT_USERDATA_MAXLEN. */
    static final int MAX_LENGTH = 256;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Userdata u32(int type, int value) {
        return put(type, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array());
    }

    Userdata string(int type, String value) {
        byte[] s = value.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[s.length + 1];
        System.arraycopy(s, 0, z, 0, s.length);
        return put(type, z);
    }

    Userdata put(int type, byte[] value) {
        if (value.length > 0xff) {
            throw new IllegalArgumentException("user data item of " + value.length + " bytes: at most 255");
        }
        out.write(type);
        out.write(value.length);
        out.writeBytes(value);
        return this;
    }

    byte[] bytes() {
        byte[] b = out.toByteArray();
        if (b.length > MAX_LENGTH) {
            throw new IllegalArgumentException("user data of " + b.length + " bytes: the kernel takes at most " + MAX_LENGTH);
        }
        return b;
    }

    /** The udata nft writes for a comment alone (tables, chains, rules, elements). */
    static byte[] comment(String comment) {
        return new Userdata().string(COMMENT, comment).bytes();
    }

    /** The string of TLV {@code type} in {@code udata}, without its NUL; null when absent or malformed. */
    static String findString(byte[] udata, int type) {
        byte[] v = find(udata, type);
        if (v == null) {
            return null;
        }
        int end = 0;
        while (end < v.length && v[end] != 0) {
            end++;
        }
        return new String(v, 0, end, StandardCharsets.UTF_8);
    }

    /** The values of the TLVs of {@code udata}, in order (types are implied by position where we read them). */
    static java.util.List<byte[]> items(byte[] udata) {
        java.util.List<byte[]> out = new java.util.ArrayList<>();
        int at = 0;
        while (udata != null && at + 2 <= udata.length) {
            int len = udata[at + 1] & 0xff;
            if (at + 2 + len > udata.length) {
                return java.util.List.of();
            }
            out.add(java.util.Arrays.copyOfRange(udata, at + 2, at + 2 + len));
            at += 2 + len;
        }
        return out;
    }

    /** A host-order u32 item; -1 when it is not 4 bytes. */
    static int u32(byte[] item) {
        return item.length == 4 ? ByteBuffer.wrap(item).order(ByteOrder.nativeOrder()).getInt() : -1;
    }

    /** The value of TLV {@code type} in {@code udata}; null when absent. */
    static byte[] find(byte[] udata, int type) {
        int at = 0;
        while (udata != null && at + 2 <= udata.length) {
            int len = udata[at + 1] & 0xff;
            if (at + 2 + len > udata.length) {
                return null;
            }
            if ((udata[at] & 0xff) == type) {
                return java.util.Arrays.copyOfRange(udata, at + 2, at + 2 + len);
            }
            at += 2 + len;
        }
        return null;
    }

    /** A comment nft can store: at most 128 bytes (NFT_USERDATA_MAXLEN leaves room for the rest). */
    static String checkComment(String comment) {
        if (comment != null && (comment.getBytes(StandardCharsets.UTF_8).length > 128 || comment.indexOf('\0') >= 0)) {
            throw new IllegalArgumentException("comment \"" + comment + "\": at most 128 bytes without NUL");
        }
        return comment;
    }
}
