package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * An nf_tables table, named by family and name, and its messages: the payload that names it (for
 * DELTABLE and GETTABLE) and the decoding of the kernel's NEWTABLE answer.
 *
 * @param family the table's family
 * @param name   its name: 1 to 255 bytes of UTF-8 without NUL (NFT_NAME_MAXLEN counts the NUL)
 */
public record Table(TableFamily family, String name) {

    static final int NAME_MAX_BYTES = 255;

    public Table {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(name, "name");
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > NAME_MAX_BYTES || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("table name \"" + name + "\": must be 1 to " + NAME_MAX_BYTES
                    + " bytes without NUL, has " + bytes);
        }
    }

    /** nfgenmsg of the table's family, then NFTA_TABLE_NAME. */
    byte[] namePayload() {
        return new AttributeWriter().header(NftNumbers.nfgenmsg(family.number(), 0))
                .putString(NftNumbers.NFTA_TABLE_NAME, name).toByteArray();
    }

    /** NEWTABLE as nft sends it: name, flags 0, and the comment (null for none) as nft stores it. */
    byte[] addPayload(String comment) {
        Userdata.checkComment(comment);
        AttributeWriter w = new AttributeWriter().header(NftNumbers.nfgenmsg(family.number(), 0))
                .putString(NftNumbers.NFTA_TABLE_NAME, name).putBe32(NftNumbers.NFTA_TABLE_FLAGS, 0);
        if (comment != null) {
            w.put(NftNumbers.NFTA_TABLE_USERDATA, Userdata.comment(comment));
        }
        return w.toByteArray();
    }

    /**
     * The table a NEWTABLE message (an answer to GETTABLE) describes; null for a family not in
     * {@link TableFamily}.
     *
     * @throws IllegalArgumentException when the message is malformed or has no name
     */
    static Table decode(NetlinkMessage message) {
        ByteBuffer p = message.payload();
        if (p.remaining() < NftNumbers.NFGENMSG_LENGTH) {
            throw new IllegalArgumentException("table message of " + p.remaining() + " bytes has no nfgenmsg");
        }
        TableFamily family = TableFamily.of(p.get(0) & 0xff);
        String name = NetlinkAttribute.find(NetlinkAttribute.parse(p.position(NftNumbers.NFGENMSG_LENGTH)),
                NftNumbers.NFTA_TABLE_NAME).map(NetlinkAttribute::string)
                .orElseThrow(() -> new IllegalArgumentException("table message without NFTA_TABLE_NAME"));
        return family == null ? null : new Table(family, name);
    }

    /** "table ip kube-proxy", as nft names it. */
    @Override
    public String toString() {
        return "table " + family.nftName() + " " + name;
    }
}
