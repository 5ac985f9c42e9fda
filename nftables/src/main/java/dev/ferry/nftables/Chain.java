package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * An nf_tables chain: a regular chain (reached only by jumps, gotos and verdict maps) or, with a
 * {@link Base}, a base chain hooked into the packet path. Its comment is stored as nft stores it
 * (NFTA_CHAIN_USERDATA), so {@code nft list} shows it.
 *
 * @param base    the hook of a base chain; null for a regular chain
 * @param comment null for none
 */
public record Chain(Table table, String name, Base base, String comment) {

    /** A base chain's type, hook, priority (a number, as knftables sends it) and policy. */
    public record Base(Type type, Hook hook, int priority, Policy policy) {
        public Base {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(hook, "hook");
            Objects.requireNonNull(policy, "policy");
        }
    }

    /** The chain types of ip/ip6 tables. */
    public enum Type {
        FILTER("filter"), NAT("nat"), ROUTE("route");

        final String nftName;

        Type(String nftName) {
            this.nftName = nftName;
        }

        static Type of(String name) {
            for (Type t : values()) {
                if (t.nftName.equals(name)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("chain type \"" + name + "\"");
        }
    }

    /** enum nf_inet_hooks. */
    public enum Hook { PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING }

    /** A base chain's policy (NF_DROP 0, NF_ACCEPT 1). */
    public enum Policy { DROP, ACCEPT }

    public Chain {
        Objects.requireNonNull(table, "table");
        checkName(name);
        Userdata.checkComment(comment);
    }

    public static Chain regular(Table table, String name) {
        return new Chain(table, name, null, null);
    }

    public static Chain base(Table table, String name, Type type, Hook hook, int priority) {
        return new Chain(table, name, new Base(type, hook, priority, Policy.ACCEPT), null);
    }

    public Chain withComment(String comment) {
        return new Chain(table, name, base, comment);
    }

    static String checkName(String name) {
        Objects.requireNonNull(name, "chain name");
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > Table.NAME_MAX_BYTES || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("chain name \"" + name + "\": must be 1 to " + Table.NAME_MAX_BYTES
                    + " bytes without NUL, has " + bytes);
        }
        return name;
    }

    /** NEWCHAIN: table, name, type, policy, hook, comment, in nft's order. */
    byte[] addPayload() {
        AttributeWriter w = names(NftNumbers.NFTA_CHAIN_NAME);
        if (base != null) {
            w.putString(NftNumbers.NFTA_CHAIN_TYPE, base.type.nftName).putBe32(NftNumbers.NFTA_CHAIN_POLICY,
                    base.policy.ordinal());
            w.beginNested(NftNumbers.NFTA_CHAIN_HOOK).putBe32(NftNumbers.NFTA_HOOK_HOOKNUM, base.hook.ordinal())
                    .putBe32(NftNumbers.NFTA_HOOK_PRIORITY, base.priority).endNested();
        }
        if (comment != null) {
            w.put(NftNumbers.NFTA_CHAIN_USERDATA, Userdata.comment(comment));
        }
        return w.toByteArray();
    }

    /** DELCHAIN, and DELRULE without a handle (flush): table and name. */
    byte[] namePayload(int nameAttribute) {
        return names(nameAttribute).toByteArray();
    }

    /** The table and this chain's name under {@code nameAttribute} (NFTA_CHAIN_NAME, or NFTA_RULE_CHAIN for a flush). */
    private AttributeWriter names(int nameAttribute) {
        return new AttributeWriter().header(NftNumbers.nfgenmsg(table.family().number(), 0))
                .putString(NftNumbers.NFTA_CHAIN_TABLE, table.name()).putString(nameAttribute, name);
    }

    /** The chain a NEWCHAIN message (an answer to GETCHAIN) describes. */
    static Chain decode(NetlinkMessage message) {
        TableFamily family = NftNumbers.family(message);
        List<NetlinkAttribute> a = NftNumbers.attributes(message);
        Table table = new Table(family, ExpressionCodec.string(a, NftNumbers.NFTA_CHAIN_TABLE));
        Base base = ExpressionCodec.find(a, NftNumbers.NFTA_CHAIN_HOOK).map(h -> {
            List<NetlinkAttribute> hook = h.nested();
            return new Base(Type.of(ExpressionCodec.string(a, NftNumbers.NFTA_CHAIN_TYPE)),
                    Hook.values()[ExpressionCodec.u32(hook, NftNumbers.NFTA_HOOK_HOOKNUM)],
                    ExpressionCodec.u32(hook, NftNumbers.NFTA_HOOK_PRIORITY),
                    Policy.values()[ExpressionCodec.u32(a, NftNumbers.NFTA_CHAIN_POLICY, 1) == 0 ? 0 : 1]);
        }).orElse(null);
        String comment = ExpressionCodec.find(a, NftNumbers.NFTA_CHAIN_USERDATA)
                .map(u -> Userdata.findString(u.bytes(), Userdata.COMMENT)).orElse(null);
        return new Chain(table, ExpressionCodec.string(a, NftNumbers.NFTA_CHAIN_NAME), base, comment);
    }

    /** "chain ip kube-proxy services". */
    @Override
    public String toString() {
        return "chain " + table.family().nftName() + " " + table.name() + " " + name;
    }
}
