package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkBatch;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One nf_tables transaction: BEGIN, the commands in the order added, END, sent in one datagram.
 * The kernel applies all of the commands or none. The last command asks for an acknowledgement
 * (the kernel runs the commands in order and answers every refused one, so one is enough; one per
 * command would overrun the socket's receive buffer in a large transaction), so the outcome is
 * known: the last acknowledged and none refused is a commit; any refusal means the kernel rolled the whole
 * batch back, and the first refusal is reported naming its command (and, when the kernel points
 * at one, the expression or element in it); an answer missing means the kernel did not finish the
 * batch. Not thread-safe; sent once.
 */
final class Batch {

    private NetlinkBatch messages;
    /** Command {@code i} is message {@code i + 1}: BEGIN is message 0. */
    private final List<Command> commands = new ArrayList<>();
    private int lastSetId;
    static final int ERESTART = 85;

    /**
     * A command as nft would write it ("delete table ip kube-proxy"), and what the items of its list
     * attribute are (a rule's expressions, an element message's elements), to name the one the kernel
     * blames.
     */
    private record Command(int type, int flags, String text, byte[] payload, int listAttribute, List<String> items) {
    }

    /**
     * Adds nf_tables message {@code message} (NFT_MSG_*) with the flags of a command.
     *
     * @param command the command as nft would write it ("delete table ip kube-proxy"), for messages
     */
    void add(int message, byte[] payload, String command) {
        add(message, 0, payload, command, 0, List.of());
    }

    /**
     * Adds nf_tables message {@code message} with {@code flags} (NLM_F_CREATE...) besides a command's.
     *
     * @param listAttribute the top-level attribute whose nested items {@code items} describe, 0 for none
     */
    void add(int message, int flags, byte[] payload, String command, int listAttribute, List<String> items) {
        Objects.requireNonNull(command, "command");
        if (messages != null) {
            throw new IllegalStateException("the batch was sent");
        }
        commands.add(new Command(NftNumbers.type(message), NetlinkMessage.NLM_F_REQUEST | flags, command, payload,
                listAttribute, List.copyOf(items)));
    }

    /** Each command's nf_tables message number (NFT_MSG_*) and payload, in order: what the tests compare with nft's. */
    List<java.util.Map.Entry<Integer, byte[]>> commandPayloads() {
        return commands.stream().map(c -> java.util.Map.entry(c.type() & 0xff, c.payload())).toList();
    }

    /** A set id unique in this batch (NFTA_SET_ID), as nft numbers its sets: 1, 2, ... */
    int nextSetId() {
        return ++lastSetId;
    }

    int size() {
        return commands.size();
    }

    /** The messages with END added, as sent. */
    NetlinkBatch end() {
        return end(-1);
    }

    /**
     * The messages as sent: BEGIN, the commands, END; the first call fixes them.
     *
     * @param generation the generation the batch expects (NFNL_BATCH_GENID in BEGIN), or -1 for any
     */
    NetlinkBatch end(long generation) {
        if (messages == null) {
            AttributeWriter begin = new AttributeWriter().header(NftNumbers.nfgenmsg(NftNumbers.FAMILY_UNSPEC,
                    NftNumbers.SUBSYSTEM));
            if (generation >= 0) {
                begin.putBe32(NftNumbers.NFNL_BATCH_GENID, generation);
            }
            messages = new NetlinkBatch();
            messages.add(NftNumbers.NFNL_MSG_BATCH_BEGIN, NetlinkMessage.NLM_F_REQUEST, begin.toByteArray());
            for (int i = 0; i < commands.size(); i++) {
                Command c = commands.get(i);
                boolean last = i == commands.size() - 1;
                messages.add(c.type(), c.flags() | (last ? NetlinkMessage.NLM_F_ACK : 0), c.payload());
            }
            messages.add(NftNumbers.NFNL_MSG_BATCH_END, NetlinkMessage.NLM_F_REQUEST,
                    NftNumbers.nfgenmsg(NftNumbers.FAMILY_UNSPEC, NftNumbers.SUBSYSTEM));
        }
        return messages;
    }

    /**
     * Sends the transaction and checks the kernel's answers; does nothing for a batch without commands.
     *
     * @param generation the generation the batch expects, or -1 for any
     */
    void run(NetlinkSocket socket, long generation) throws IOException {
        if (commands.isEmpty()) {
            return;
        }
        NetlinkBatch datagram = end(generation);
        socket.ensureSendBuffer(datagram.length());
        check(socket.send(datagram, describe()));
    }

    /**
     * @throws NetlinkException naming the first command the kernel refused (or the transaction, when it
     *         refused the batch as a whole), with the errno
     * @throws IOException when a command has no answer: the kernel did not finish the batch
     */
    void check(List<NetlinkBatch.Answer> answers) throws IOException {
        NetlinkBatch.Answer refused = null;
        int refusals = 0;
        boolean confirmed = false;
        for (NetlinkBatch.Answer a : answers) {
            if (a.ok()) {
                confirmed |= a.index() == commands.size();
            } else {
                refusals++;
                if (refused == null) {
                    refused = a;
                }
            }
        }
        if (refused != null) {
            boolean command = refused.index() >= 1 && refused.index() <= commands.size();
            String what = command ? commands.get(refused.index() - 1).text() : describe();
            if (command) {
                String culprit = blame(commands.get(refused.index() - 1), refused.offset());
                what = culprit == null ? what : what + ", at " + culprit;
            }
            String detail = join(refused.detail(), command ? null : hint(refused.errno()));
            if (refusals > 1) {
                detail = join(detail, (refusals - 1) + " more refused");
            }
            if (commands.size() > 1) {
                detail = join(detail, "nothing of the transaction was applied");
            }
            throw new NetlinkException(what, refused.errno(), detail);
        }
        if (!confirmed) {
            throw new IOException(describe() + ": the kernel did not confirm the last of " + commands.size()
                    + " commands; the transaction did not run to its end");
        }
    }

    /** Why the kernel refuses a whole batch, where the errno alone does not say it. */
    private static String hint(int errno) {
        if (errno == Errno.EPERM) {
            return "nf_tables needs CAP_NET_ADMIN in the network namespace (run the proxy privileged)";
        }
        if (errno == Errno.EOPNOTSUPP) {
            return "this kernel has no nf_tables";
        }
        if (errno == ERESTART) {
            return "the ruleset changed since its generation was read (someone else committed a transaction)";
        }
        return null;
    }

    static String join(String a, String b) {
        if (a == null || a.isEmpty()) {
            return b;
        }
        return b == null || b.isEmpty() ? a : a + "; " + b;
    }

    private String describe() {
        return commands.size() == 1 ? commands.get(0).text() : "nf_tables transaction of " + commands.size()
                + " commands (" + commands.get(0).text() + ", ...)";
    }

    /**
     * The item of {@code command}'s list attribute that holds byte {@code offset} of its message
     * (NLMSGERR_ATTR_OFFS counts from the netlink header): "expression Lookup[...] (2 of 4)"; null
     * when the kernel pointed at nothing or at another attribute.
     */
    static String blame(Command command, int offset) {
        int at = offset - NetlinkMessage.HEADER_LENGTH;
        if (offset < 0 || command.listAttribute() == 0 || at < NftNumbers.NFGENMSG_LENGTH) {
            return null;
        }
        ByteBuffer p = ByteBuffer.wrap(command.payload()).order(ByteOrder.nativeOrder());
        int attr = NftNumbers.NFGENMSG_LENGTH;
        while (attr + 4 <= p.limit()) {
            int len = p.getShort(attr) & 0xffff;
            int type = p.getShort(attr + 2) & 0x3fff;
            if (len < 4) {
                return null;
            }
            if (at >= attr && at < attr + len) {
                return type == command.listAttribute() ? item(command, p, attr + 4, attr + len, at) : null;
            }
            attr += (len + 3) & ~3;
        }
        return null;
    }

    private static String item(Command command, ByteBuffer p, int from, int to, int at) {
        int index = 0;
        for (int item = from; item + 4 <= to; index++) {
            int len = p.getShort(item) & 0xffff;
            if (len < 4) {
                return null;
            }
            if (at >= item && at < item + len) {
                return index < command.items().size()
                        ? command.items().get(index) + " (" + (index + 1) + " of " + command.items().size() + ")" : null;
            }
            item += (len + 3) & ~3;
        }
        return null;
    }
}
