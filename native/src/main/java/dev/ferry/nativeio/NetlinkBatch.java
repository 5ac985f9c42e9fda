package dev.ferry.nativeio;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Messages sent to the kernel in one datagram, for a protocol that takes several messages as one
 * unit (nfnetlink's batches: BEGIN, the commands, END, run as one transaction). The framing a
 * protocol wants around its messages is the caller's; this class only lays them out, each with its
 * own sequence number, and {@link NetlinkSocket#send(NetlinkBatch, String)} sends them. Not
 * thread-safe; one batch per caller.
 */
public final class NetlinkBatch {

    private final List<Entry> messages = new ArrayList<>();
    private int bytes;

    private record Entry(int type, int flags, byte[] payload) {
    }

    /**
     * What the kernel answered to one message of a batch.
     *
     * @param index   the message's position in the batch (0 for the first added)
     * @param errno   0 for an acknowledgement, else the positive errno of the kernel's refusal
     * @param detail  the kernel's explanation (extended ACK), or null
     * @param offset  the byte offset in the message of the attribute the kernel blames
     *                (NLMSGERR_ATTR_OFFS), or -1
     */
    public record Answer(int index, int errno, String detail, int offset) {
        public boolean ok() {
            return errno == 0;
        }
    }

    /**
     * Adds a message; {@code flags} are sent as given (add NLM_F_REQUEST, and NLM_F_ACK for an answer on
     * success). Returns the message's index.
     */
    public int add(int type, int flags, byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        if (type < 0 || type > 0xffff || flags < 0 || flags > 0xffff) {
            throw new IllegalArgumentException("type " + type + " or flags " + flags + " out of range");
        }
        messages.add(new Entry(type, flags, payload.clone()));
        bytes += NetlinkMessage.align(NetlinkMessage.HEADER_LENGTH + payload.length);
        return messages.size() - 1;
    }

    public int size() {
        return messages.size();
    }

    public boolean isEmpty() {
        return messages.isEmpty();
    }

    /** The datagram's length in bytes. */
    public int length() {
        return bytes;
    }

    /**
     * The datagram as {@link NetlinkSocket#send} sends it: message {@code i} carries sequence number
     * {@code firstSequence + i}, each starts at a 4-byte boundary.
     */
    public byte[] encode(int firstSequence, int portId) {
        byte[] out = new byte[bytes];
        int at = 0;
        for (int i = 0; i < messages.size(); i++) {
            Entry e = messages.get(i);
            byte[] m = NetlinkMessage.encode(e.type, e.flags, firstSequence + i, portId, e.payload);
            System.arraycopy(m, 0, out, at, m.length);
            at += NetlinkMessage.align(m.length);
        }
        return out;
    }
}
