package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A connection to the kernel's nf_tables over netlink (NETLINK_NETFILTER), in the style of
 * google/nftables: reads are sent at once; changes are buffered as commands and sent together as
 * one transaction by {@link #flush()}, which the kernel applies whole or not at all. No nft binary
 * is involved.
 *
 * <p>The kernel runs the commands in the order buffered, so what a command refers to comes first
 * (table, chains, sets, their elements, then the rules that jump to the chains or look up the sets),
 * and a deletion comes after the last reference to it is gone (else EBUSY). An anonymous set is
 * added with its elements just before its rule, which names it by the id {@link #addSet} returns.
 *
 * <p>Threads: one caller at a time (not thread-safe; the socket serialises its own calls). Failures:
 * an {@link IOException} naming the command and the errno ({@link NetlinkException}); after a failed
 * flush nothing of it was applied and the buffer is empty again.
 */
public final class Nftables implements AutoCloseable {

    private static final int DUMP_ATTEMPTS = 3;
    /** Where an element message stops taking elements: one element (key, data, comment) stays well below 1 KiB. */
    private static final int ELEMENTS_PER_MESSAGE_BYTES = 60 * 1024;

    private final NetlinkSocket socket;
    private Batch pending = new Batch();

    /** Over {@code socket}; the codec tests give none and read {@link #pending()}. */
    Nftables(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** The commands buffered for the next {@link #flush()}. */
    Batch pending() {
        return pending;
    }

    /** Whether netlink can be used here (Linux, libc loadable). */
    public static boolean isAvailable() {
        return NetlinkSocket.isAvailable();
    }

    /** Why {@link #isAvailable()} is false; null when it is true. */
    public static String unavailabilityCause() {
        return NetlinkSocket.unavailabilityCause();
    }

    /** The ruleset of this process's network namespace. */
    public static Nftables open() throws IOException {
        return new Nftables(NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER));
    }

    /** The ruleset of the network namespace {@code netnsFile} refers to (e.g. /run/netns/NAME). */
    public static Nftables open(Path netnsFile) throws IOException {
        return new Nftables(NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER, netnsFile));
    }

    /** Every table, of every family, in the kernel's order. */
    public List<Table> tables() throws IOException {
        return socket.dumpAll(NftNumbers.type(NftNumbers.NFT_MSG_GETTABLE),
                NftNumbers.nfgenmsg(NftNumbers.FAMILY_UNSPEC, 0), "list nftables tables", DUMP_ATTEMPTS, Table::decode);
    }

    /** Whether {@code table} exists. */
    public boolean exists(Table table) throws IOException {
        Objects.requireNonNull(table, "table");
        try {
            socket.request(NftNumbers.type(NftNumbers.NFT_MSG_GETTABLE), 0, table.namePayload(), "get " + table);
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Deletes {@code table} with everything in it (chains, rules, sets, maps), in a transaction of
     * its own.
     *
     * @return true when it was deleted, false when there was no such table (ENOENT)
     */
    public boolean deleteIfExists(Table table) throws IOException {
        flush(); // what was buffered before goes first, and on its own
        deleteTable(table);
        try {
            flush();
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /** Buffers {@code delete table}, with everything in it; it must exist when the transaction runs. */
    public void deleteTable(Table table) {
        Objects.requireNonNull(table, "table");
        pending.add(NftNumbers.NFT_MSG_DELTABLE, table.namePayload(), "delete " + table);
    }

    /** Buffers {@code destroy table}: deletes it with everything in it when it exists (Linux 6.3 and later). */
    public void destroyTable(Table table) {
        Objects.requireNonNull(table, "table");
        pending.add(NftNumbers.NFT_MSG_DESTROYTABLE, table.namePayload(), "destroy " + table);
    }

    /** Buffers {@code add table}: creates it, or (when it exists) sets its comment; null for none. */
    public void addTable(Table table, String comment) {
        Objects.requireNonNull(table, "table");
        pending.add(NftNumbers.NFT_MSG_NEWTABLE, table.addPayload(comment), "add " + table);
    }

    /** Buffers {@code add chain}: creates it; no error when a chain of that name exists (nft's "add"). */
    public void addChain(Chain chain) {
        Objects.requireNonNull(chain, "chain");
        pending.add(NftNumbers.NFT_MSG_NEWCHAIN, NftNumbers.CREATE, chain.addPayload(), "add " + chain, 0, List.of());
    }

    /** Buffers {@code delete chain}: it must exist and be empty and unreferenced when the transaction runs. */
    public void deleteChain(Chain chain) {
        Objects.requireNonNull(chain, "chain");
        pending.add(NftNumbers.NFT_MSG_DELCHAIN, chain.namePayload(NftNumbers.NFTA_CHAIN_NAME), "delete " + chain);
    }

    /**
     * Buffers {@code destroy chain}: deletes it when it exists, no error when it does not (Linux 6.3 and
     * later; an older kernel refuses the transaction with EOPNOTSUPP or EINVAL). It must be empty and
     * unreferenced.
     */
    public void destroyChain(Chain chain) {
        Objects.requireNonNull(chain, "chain");
        pending.add(NftNumbers.NFT_MSG_DESTROYCHAIN, chain.namePayload(NftNumbers.NFTA_CHAIN_NAME), "destroy " + chain);
    }

    /** Buffers {@code flush chain}: deletes every rule of the chain. */
    public void flushChain(Chain chain) {
        Objects.requireNonNull(chain, "chain");
        pending.add(NftNumbers.NFT_MSG_DELRULE, chain.namePayload(NftNumbers.NFTA_RULE_CHAIN), "flush " + chain);
    }

    /** Buffers {@code add rule}: at the end of its chain, or after the rule {@link Rule#position()} names. */
    public void addRule(Rule rule) {
        Objects.requireNonNull(rule, "rule");
        if (rule.handle() != 0) {
            throw new IllegalArgumentException("add " + rule.describe() + ": a new rule has no handle; replaceRule replaces one");
        }
        pending.add(NftNumbers.NFT_MSG_NEWRULE, NftNumbers.CREATE_APPEND, rule.addPayload(), "add " + rule.describe(),
                NftNumbers.NFTA_RULE_EXPRESSIONS, describe(rule.expressions()));
    }

    /** Buffers {@code replace rule}: the rule with {@link Rule#handle()} becomes this one, in place. */
    public void replaceRule(Rule rule) {
        Objects.requireNonNull(rule, "rule");
        if (rule.handle() == 0) {
            throw new IllegalArgumentException("replace " + rule.describe() + ": give the handle of the rule to replace");
        }
        pending.add(NftNumbers.NFT_MSG_NEWRULE, NetlinkMessage.NLM_F_REPLACE, rule.addPayload(),
                "replace " + rule.describe(), NftNumbers.NFTA_RULE_EXPRESSIONS, describe(rule.expressions()));
    }

    /** Buffers {@code delete rule} of {@link Rule#handle()}. */
    public void deleteRule(Rule rule) {
        Objects.requireNonNull(rule, "rule");
        pending.add(NftNumbers.NFT_MSG_DELRULE, rule.deletePayload(), "delete " + rule.describe());
    }

    /**
     * Buffers {@code add set} (or map) with {@code elements}; no error when a set of that name exists.
     * Returns the set with the id this batch gives it, which a rule's {@link Lookup} or {@link Dynset}
     * of an anonymous set must use (anonymous sets also need their elements here: they are constant).
     */
    public NftSet addSet(NftSet set, List<Element> elements) {
        Objects.requireNonNull(set, "set");
        elements.forEach(e -> set.check(Objects.requireNonNull(e, "element"), true)); // before anything is buffered
        NftSet added = set.withId(pending.nextSetId());
        pending.add(NftNumbers.NFT_MSG_NEWSET, NftNumbers.CREATE, added.addPayload(elements.size()), "add " + set.describe(),
                0, List.of());
        if (!elements.isEmpty()) {
            addElements(added, elements);
        }
        return added;
    }

    /** Buffers {@code delete set}: it must exist and no rule may refer to it when the transaction runs. */
    public void deleteSet(NftSet set) {
        Objects.requireNonNull(set, "set");
        pending.add(NftNumbers.NFT_MSG_DELSET, set.namePayload(), "delete " + set.describe());
    }

    /** Buffers {@code destroy set}: {@link #deleteSet} without an error when it does not exist (Linux 6.3 and later). */
    public void destroySet(NftSet set) {
        Objects.requireNonNull(set, "set");
        pending.add(NftNumbers.NFT_MSG_DESTROYSET, set.namePayload(), "destroy " + set.describe());
    }

    /** Buffers {@code flush set}: deletes every element. */
    public void flushSet(NftSet set) {
        Objects.requireNonNull(set, "set");
        pending.add(NftNumbers.NFT_MSG_DELSETELEM, set.namePayload(), "flush " + set.describe());
    }

    /** Buffers {@code add element}: no error for an element that exists (its data is not changed then). */
    public void addElements(NftSet set, List<Element> elements) {
        elementCommand(NftNumbers.NFT_MSG_NEWSETELEM, NftNumbers.CREATE, set, elements, "add element to ");
    }

    /** Buffers {@code destroy element}: deletes those that exist, no error for the others (Linux 6.3 and later). */
    public void destroyElements(NftSet set, List<Element> elements) {
        elementCommand(NftNumbers.NFT_MSG_DESTROYSETELEM, 0, set, elements, "destroy element from ");
    }

    /** Buffers {@code delete element}: each must exist when the transaction runs. */
    public void deleteElements(NftSet set, List<Element> elements) {
        elementCommand(NftNumbers.NFT_MSG_DELSETELEM, 0, set, elements, "delete element from ");
    }

    /**
     * One message per run of elements that fits a netlink attribute (the element list is one nested
     * attribute, at most 64 KiB: a few thousand elements), as nft splits them; all in this transaction.
     */
    private void elementCommand(int message, int flags, NftSet set, List<Element> elements, String verb) {
        Objects.requireNonNull(set, "set");
        if (elements.isEmpty()) {
            throw new IllegalArgumentException(verb + set.describe() + ": no elements (flushSet empties a set)");
        }
        boolean adding = message == NftNumbers.NFT_MSG_NEWSETELEM;
        elements.forEach(e -> set.check(Objects.requireNonNull(e, "element"), adding));
        int from = 0;
        while (from < elements.size()) {
            AttributeWriter w = new AttributeWriter().header(NftNumbers.nfgenmsg(set.table().family().number(), 0))
                    .putString(NftNumbers.NFTA_SET_ELEM_LIST_TABLE, set.table().name())
                    .putString(NftNumbers.NFTA_SET_ELEM_LIST_SET, set.name());
            if (set.id() != 0) {
                w.putBe32(NftNumbers.NFTA_SET_ELEM_LIST_SET_ID, set.id());
            }
            w.beginNested(NftNumbers.NFTA_SET_ELEM_LIST_ELEMENTS);
            int listStart = w.size();
            List<String> names = new ArrayList<>();
            while (from < elements.size() && w.size() - listStart < ELEMENTS_PER_MESSAGE_BYTES) {
                Element e = elements.get(from++);
                e.encode(w, names.size() + 1);
                names.add("element " + e);
            }
            w.endNested();
            pending.add(message, flags, w.toByteArray(), verb + set.describe(), NftNumbers.NFTA_SET_ELEM_LIST_ELEMENTS,
                    names);
        }
    }

    private static List<String> describe(List<Expression> expressions) {
        List<String> out = new ArrayList<>();
        for (Expression e : expressions) {
            out.add("expression " + e);
        }
        return out;
    }

    /**
     * Sends the buffered commands as one transaction; nothing when none is buffered. On failure
     * nothing of it was applied, and the buffer is empty again either way.
     *
     * @throws NetlinkException naming the command (and the expression or element, when the kernel
     *         points at one) the kernel refused, with its errno and explanation
     */
    public void flush() throws IOException {
        Batch batch = pending;
        pending = new Batch();
        batch.run(socket, -1);
    }

    /**
     * Like {@link #flush()}, but the kernel refuses the transaction (ERESTART, nothing applied) when
     * the ruleset's generation is no longer {@code generation}: someone else changed nf_tables since
     * it was read.
     */
    public void flushIfGeneration(long generation) throws IOException {
        if (generation < 0 || generation > 0xffffffffL) {
            throw new IllegalArgumentException("generation " + generation + " out of range");
        }
        Batch batch = pending;
        pending = new Batch();
        batch.run(socket, generation);
    }

    /** The ruleset's generation (NFT_MSG_GETGEN): it changes with every committed transaction, anyone's. */
    public long generation() throws IOException {
        List<NetlinkMessage> replies = socket.request(NftNumbers.type(NftNumbers.NFT_MSG_GETGEN), 0,
                NftNumbers.nfgenmsg(NftNumbers.FAMILY_UNSPEC, 0), "get nf_tables generation");
        for (NetlinkMessage m : replies) {
            if (m.type() == NftNumbers.type(NftNumbers.NFT_MSG_NEWGEN)) {
                List<NetlinkAttribute> a = NetlinkAttribute.parse(m.payload().position(NftNumbers.NFGENMSG_LENGTH));
                return ExpressionCodec.find(a, NftNumbers.NFTA_GEN_ID).orElseThrow(() -> new IOException(
                        "get nf_tables generation: the answer has no NFTA_GEN_ID")).be32();
            }
        }
        throw new IOException("get nf_tables generation: no NEWGEN answer");
    }

    /** The chains of {@code table}, in the kernel's order. */
    public List<Chain> chains(Table table) throws IOException {
        return socket.dumpAll(NftNumbers.type(NftNumbers.NFT_MSG_GETCHAIN), tableFilter(table, NftNumbers.NFTA_CHAIN_TABLE),
                "list chains of " + table, DUMP_ATTEMPTS, Chain::decode);
    }

    /** The rules of {@code table}, chain by chain, each in its chain's order and with its handle. */
    public List<Rule> rules(Table table) throws IOException {
        return socket.dumpAll(NftNumbers.type(NftNumbers.NFT_MSG_GETRULE), tableFilter(table, NftNumbers.NFTA_RULE_TABLE),
                "list rules of " + table, DUMP_ATTEMPTS, Rule::decode);
    }

    /** The sets and maps of {@code table}, anonymous ones included. */
    public List<NftSet> sets(Table table) throws IOException {
        return socket.dumpAll(NftNumbers.type(NftNumbers.NFT_MSG_GETSET), tableFilter(table, NftNumbers.NFTA_SET_TABLE),
                "list sets of " + table, DUMP_ATTEMPTS, NftSet::decode);
    }

    /** The elements of {@code set}. */
    public List<Element> elements(NftSet set) throws IOException {
        Objects.requireNonNull(set, "set");
        List<List<Element>> parts = socket.dumpAll(NftNumbers.type(NftNumbers.NFT_MSG_GETSETELEM), set.namePayload(),
                "list elements of " + set.describe(), DUMP_ATTEMPTS, m -> {
                    List<NetlinkAttribute> a = NetlinkAttribute.parse(m.payload().position(NftNumbers.NFGENMSG_LENGTH));
                    List<Element> out = new ArrayList<>();
                    ExpressionCodec.find(a, NftNumbers.NFTA_SET_ELEM_LIST_ELEMENTS).ifPresent(list -> {
                        for (NetlinkAttribute e : list.nested()) {
                            out.add(Element.decode(e.nested()));
                        }
                    });
                    return out;
                });
        List<Element> all = new ArrayList<>();
        parts.forEach(all::addAll);
        return all;
    }

    private static byte[] tableFilter(Table table, int attribute) {
        Objects.requireNonNull(table, "table");
        return new AttributeWriter().header(NftNumbers.nfgenmsg(table.family().number(), 0))
                .putString(attribute, table.name()).toByteArray();
    }

    @Override
    public void close() {
        socket.close();
    }

    @Override
    public String toString() {
        return "nf_tables over " + socket;
    }
}
