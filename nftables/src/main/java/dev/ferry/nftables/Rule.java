package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * A rule: expressions run in order in a chain. Its comment is stored as nft stores it
 * (NFTA_RULE_USERDATA), so {@code nft list} shows it.
 *
 * @param handle   the kernel's handle of an existing rule (to replace or delete it); 0 for a new one
 * @param position for a new rule, the handle of the rule to add it after; 0 to add it at the end
 * @param comment  null for none
 */
public record Rule(Table table, String chain, List<Expression> expressions, String comment, long handle,
                   long position) {

    public Rule {
        Objects.requireNonNull(table, "table");
        Chain.checkName(chain);
        expressions = List.copyOf(expressions);
        Userdata.checkComment(comment);
        if (handle < 0 || position < 0) {
            throw new IllegalArgumentException("rule handle " + handle + " position " + position + ": not negative");
        }
    }

    /** A new rule at the end of {@code chain}. */
    public static Rule of(Chain chain, Expression... expressions) {
        return new Rule(chain.table(), chain.name(), List.of(expressions), null, 0, 0);
    }

    public Rule withComment(String comment) {
        return new Rule(table, chain, expressions, comment, handle, position);
    }

    /** This rule as the one with {@code handle} (to replace or delete it). */
    public Rule withHandle(long handle) {
        return new Rule(table, chain, expressions, comment, handle, position);
    }

    /** NEWRULE: table, chain, handle, position, expressions, comment, in nft's order. */
    byte[] addPayload() {
        AttributeWriter w = new AttributeWriter().header(NftNumbers.nfgenmsg(table.family().number(), 0))
                .putString(NftNumbers.NFTA_RULE_TABLE, table.name()).putString(NftNumbers.NFTA_RULE_CHAIN, chain);
        if (handle != 0) {
            w.put(NftNumbers.NFTA_RULE_HANDLE, be64(handle));
        }
        if (position != 0) {
            w.put(NftNumbers.NFTA_RULE_POSITION, be64(position));
        }
        ExpressionCodec.encodeList(w, NftNumbers.NFTA_RULE_EXPRESSIONS, expressions);
        if (comment != null) {
            w.put(NftNumbers.NFTA_RULE_USERDATA, Userdata.comment(comment));
        }
        return w.toByteArray();
    }

    /** DELRULE of this rule's handle. */
    byte[] deletePayload() {
        if (handle == 0) {
            throw new IllegalArgumentException("rule in chain " + chain + " has no handle: list it to learn it");
        }
        return new AttributeWriter().header(NftNumbers.nfgenmsg(table.family().number(), 0))
                .putString(NftNumbers.NFTA_RULE_TABLE, table.name()).putString(NftNumbers.NFTA_RULE_CHAIN, chain)
                .put(NftNumbers.NFTA_RULE_HANDLE, be64(handle)).toByteArray();
    }

    static byte[] be64(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    /** The rule a NEWRULE message (an answer to GETRULE) describes, with its handle. */
    static Rule decode(NetlinkMessage message) {
        TableFamily family = NftNumbers.family(message);
        List<NetlinkAttribute> a = NftNumbers.attributes(message);
        List<Expression> expressions = ExpressionCodec.find(a, NftNumbers.NFTA_RULE_EXPRESSIONS)
                .map(ExpressionCodec::decodeList).orElse(List.of());
        String comment = ExpressionCodec.find(a, NftNumbers.NFTA_RULE_USERDATA)
                .map(u -> Userdata.findString(u.bytes(), Userdata.COMMENT)).orElse(null);
        long handle = ExpressionCodec.find(a, NftNumbers.NFTA_RULE_HANDLE).map(NetlinkAttribute::be64).orElse(0L);
        return new Rule(new Table(family, ExpressionCodec.string(a, NftNumbers.NFTA_RULE_TABLE)),
                ExpressionCodec.string(a, NftNumbers.NFTA_RULE_CHAIN), expressions, comment, handle, 0);
    }

    /** "rule in chain ip kube-proxy services" (with its handle, when it has one). */
    String describe() {
        return "rule in chain " + table.family().nftName() + " " + table.name() + " " + chain
                + (handle != 0 ? " handle " + handle : "");
    }
}
