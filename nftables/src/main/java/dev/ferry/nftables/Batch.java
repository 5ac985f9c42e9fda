package dev.ferry.nftables;

import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkBatch;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * One nf_tables transaction: BEGIN, the commands in the order added, END, sent in one datagram.
 * The kernel applies all of the commands or none. Every command asks for an acknowledgement, so the
 * outcome is known: all acknowledged is a commit; any refusal means the kernel rolled the whole
 * batch back, and the first refusal is reported naming its command; an answer missing means the
 * kernel did not finish the batch. Not thread-safe; sent once.
 */
final class Batch {

    private final NetlinkBatch messages = new NetlinkBatch();
    /** Command {@code i} is message {@code i + 1}: BEGIN is message 0. */
    private final List<String> commands = new ArrayList<>();
    private boolean ended;

    Batch() {
        messages.add(NftNumbers.NFNL_MSG_BATCH_BEGIN, NetlinkMessage.NLM_F_REQUEST,
                NftNumbers.nfgenmsg(NftNumbers.FAMILY_UNSPEC, NftNumbers.SUBSYSTEM));
    }

    /**
     * Adds nf_tables message {@code message} (NFT_MSG_*).
     *
     * @param command the command as nft would write it ("delete table ip kube-proxy"), for messages
     */
    void add(int message, byte[] payload, String command) {
        Objects.requireNonNull(command, "command");
        if (ended) {
            throw new IllegalStateException("the batch was sent");
        }
        messages.add(NftNumbers.type(message), NftNumbers.COMMAND_FLAGS, payload);
        commands.add(command);
    }

    int size() {
        return commands.size();
    }

    /** The messages with END added, as sent. */
    NetlinkBatch end() {
        if (!ended) {
            messages.add(NftNumbers.NFNL_MSG_BATCH_END, NetlinkMessage.NLM_F_REQUEST,
                    NftNumbers.nfgenmsg(NftNumbers.FAMILY_UNSPEC, NftNumbers.SUBSYSTEM));
            ended = true;
        }
        return messages;
    }

    /** Sends the transaction and checks the kernel's answers; does nothing for a batch without commands. */
    void run(NetlinkSocket socket) throws IOException {
        if (commands.isEmpty()) {
            return;
        }
        check(socket.send(end(), describe()));
    }

    /**
     * @throws NetlinkException naming the first command the kernel refused (or the transaction, when it
     *         refused the batch as a whole), with the errno
     * @throws IOException when a command has no answer: the kernel did not finish the batch
     */
    void check(List<NetlinkBatch.Answer> answers) throws IOException {
        NetlinkBatch.Answer refused = null;
        int refusals = 0;
        BitSet acknowledged = new BitSet();
        for (NetlinkBatch.Answer a : answers) {
            if (a.ok()) {
                acknowledged.set(a.index());
            } else {
                refusals++;
                if (refused == null) {
                    refused = a;
                }
            }
        }
        if (refused != null) {
            boolean command = refused.index() >= 1 && refused.index() <= commands.size();
            String what = command ? commands.get(refused.index() - 1) : describe();
            String detail = join(refused.detail(), command ? null : hint(refused.errno()));
            if (refusals > 1) {
                detail = join(detail, (refusals - 1) + " more refused");
            }
            if (commands.size() > 1) {
                detail = join(detail, "nothing of the transaction was applied");
            }
            throw new NetlinkException(what, refused.errno(), detail);
        }
        int answered = acknowledged.get(1, commands.size() + 1).cardinality();
        if (answered < commands.size()) {
            throw new IOException(describe() + ": the kernel answered " + answered + " of " + commands.size()
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
        return null;
    }

    private static String join(String a, String b) {
        if (a == null || a.isEmpty()) {
            return b;
        }
        return b == null || b.isEmpty() ? a : a + "; " + b;
    }

    private String describe() {
        return commands.size() == 1 ? commands.get(0) : "nf_tables transaction of " + commands.size() + " commands ("
                + commands.get(0) + ", ...)";
    }
}
