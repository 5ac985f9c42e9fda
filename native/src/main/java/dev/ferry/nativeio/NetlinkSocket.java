package dev.ferry.nativeio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A netlink socket talking to the kernel: requests with sequence numbers, acknowledgements,
 * kernel errors as {@link NetlinkException}, multipart dumps, and batches of messages sent in one
 * datagram ({@link NetlinkBatch}).
 *
 * <p>Threads: one request at a time (methods are synchronized); a request blocks its caller
 * until the kernel answers or the receive timeout passes. Failures: a syscall returning -1,
 * a kernel error, a malformed or truncated answer, or no answer in time become an
 * {@link IOException} naming the request; the socket stays usable (answers that arrive late
 * carry an old sequence number and are skipped). {@link #open(int, Path)} creates the socket
 * inside another network namespace on a short-lived thread of its own, so no thread of the
 * caller ever changes namespace; the socket keeps talking to the namespace it was made in.
 */
public final class NetlinkSocket implements AutoCloseable {

    public static final int NETLINK_ROUTE = 0;
    public static final int NETLINK_NETFILTER = 12;
    public static final int NETLINK_GENERIC = 16;

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Larger than any datagram the kernel sends for a dump (it caps them at 32 KiB). */
    private static final int RECEIVE_BUFFER = 64 * 1024;
    private static final int SOCKADDR_NL_LENGTH = 12;
    private static final int NLMSGERR_ATTR_MSG = 1;
    private static final int NLMSGERR_ATTR_OFFS = 2;

    private final LibC.Calls libc;
    private final int fd;
    private final int protocol;
    private final int portId;
    private final String where;
    private final byte[] receiveBuffer = new byte[RECEIVE_BUFFER];
    private int sequence;
    private int sendBuffer;
    private boolean closed;

    private NetlinkSocket(LibC.Calls libc, int fd, int protocol, int portId, String where) {
        this.libc = libc;
        this.fd = fd;
        this.protocol = protocol;
        this.portId = portId;
        this.where = where;
        this.sequence = (int) (System.nanoTime() & 0x3fffffff);
    }

    /** Whether netlink sockets can be made here (Linux, libc loadable through jnr-ffi). */
    public static boolean isAvailable() {
        return Native.unavailabilityCause() == null;
    }

    /** Why {@link #isAvailable()} is false; null when it is true. */
    public static String unavailabilityCause() {
        return Native.unavailabilityCause();
    }

    /** Opens a socket of {@code protocol} (e.g. {@link #NETLINK_NETFILTER}) in this process's namespace. */
    public static NetlinkSocket open(int protocol) throws IOException {
        return create(protocol, DEFAULT_TIMEOUT, "");
    }

    /**
     * Opens a socket inside the network namespace {@code netnsFile} refers to (e.g.
     * {@code /run/netns/NAME} or {@code /proc/PID/ns/net}).
     */
    public static NetlinkSocket open(int protocol, Path netnsFile) throws IOException {
        Objects.requireNonNull(netnsFile, "netnsFile");
        return NamespaceSwitch.call(netnsFile, () -> create(protocol, DEFAULT_TIMEOUT, " in " + netnsFile));
    }

    private static NetlinkSocket create(int protocol, Duration timeout, String where) throws IOException {
        if (protocol < 0 || protocol > 31) {
            throw new IllegalArgumentException("netlink protocol " + protocol + " out of range 0..31");
        }
        LibC.Calls libc = Native.libc();
        int fd = libc.socket(Native.AF_NETLINK, Native.SOCK_RAW | Native.SOCK_CLOEXEC, protocol);
        if (fd < 0) {
            throw new NetlinkException("socket(AF_NETLINK, " + protocol + ")" + where, Native.errno(), null);
        }
        try {
            if (libc.bind(fd, sockaddr(0), SOCKADDR_NL_LENGTH) < 0) {
                throw new NetlinkException("bind netlink socket" + where, Native.errno(), null);
            }
            ByteBuffer tv = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
            tv.putLong(timeout.toSeconds()).putLong(timeout.toNanosPart() / 1000);
            if (libc.setsockopt(fd, Native.SOL_SOCKET, Native.SO_RCVTIMEO, tv.array(), 16) < 0) {
                throw new NetlinkException("setsockopt SO_RCVTIMEO" + where, Native.errno(), null);
            }
            // Both optional (kernels before 4.3 / 4.12 lack them): short ACKs, and error text in them.
            libc.setsockopt(fd, Native.SOL_NETLINK, Native.NETLINK_CAP_ACK, intBytes(1), 4);
            libc.setsockopt(fd, Native.SOL_NETLINK, Native.NETLINK_EXT_ACK, intBytes(1), 4);
            byte[] address = new byte[SOCKADDR_NL_LENGTH];
            int[] length = {SOCKADDR_NL_LENGTH};
            if (libc.getsockname(fd, address, length) < 0) {
                throw new NetlinkException("getsockname netlink socket" + where, Native.errno(), null);
            }
            int portId = ByteBuffer.wrap(address).order(ByteOrder.nativeOrder()).getInt(4);
            return new NetlinkSocket(libc, fd, protocol, portId, where);
        } catch (IOException | RuntimeException e) {
            libc.close(fd);
            throw e;
        }
    }

    /**
     * Makes the send buffer hold a datagram of {@code bytes} (the kernel refuses a larger one with
     * EMSGSIZE): SO_SNDBUFFORCE, which needs CAP_NET_ADMIN, else SO_SNDBUF, which net.core.wmem_max
     * caps. Never shrinks it. For a protocol that takes a whole transaction in one datagram
     * (nfnetlink's batches).
     *
     * @throws NetlinkException when the buffer cannot be made that large
     */
    public synchronized void ensureSendBuffer(int bytes) throws IOException {
        if (bytes < 0) {
            throw new IllegalArgumentException("send buffer of " + bytes + " bytes");
        }
        ensureOpen("size send buffer" + where);
        // The kernel doubles the value given (bookkeeping) and wants 32 bytes more than the datagram.
        int wanted = bytes + 64 * 1024;
        if (sendBuffer >= wanted) {
            return;
        }
        int half = (int) Math.min(Integer.MAX_VALUE / 2, wanted / 2 + 1);
        if (libc.setsockopt(fd, Native.SOL_SOCKET, Native.SO_SNDBUFFORCE, intBytes(half), 4) < 0
                && libc.setsockopt(fd, Native.SOL_SOCKET, Native.SO_SNDBUF, intBytes(half), 4) < 0) {
            throw new NetlinkException("set netlink send buffer to " + wanted + " bytes" + where, Native.errno(), null);
        }
        byte[] value = new byte[4];
        int[] length = {4};
        if (libc.getsockopt(fd, Native.SOL_SOCKET, Native.SO_SNDBUF, value, length) == 0) {
            sendBuffer = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt();
        }
        if (sendBuffer < wanted) {
            throw new IOException("netlink send buffer" + where + " is " + sendBuffer + " bytes, a datagram of " + bytes
                    + " needs " + wanted + ": raise net.core.wmem_max or run with CAP_NET_ADMIN");
        }
    }

    /** The port id the kernel gave this socket. */
    public int portId() {
        return portId;
    }

    public int protocol() {
        return protocol;
    }

    /**
     * Sends a request with NLM_F_REQUEST | NLM_F_ACK added to {@code flags} and waits for the
     * acknowledgement. Returns the replies that came before it (copied), e.g. the answer to a
     * GET; empty for a plain command.
     *
     * @param description what the request does, for error messages ("delete conntrack flow ...")
     * @throws NetlinkException when the kernel answers with an error
     */
    public synchronized List<NetlinkMessage> request(int type, int flags, byte[] payload, String description)
            throws IOException {
        List<NetlinkMessage> replies = new ArrayList<>();
        exchange(type, flags | NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK, payload, description,
                m -> replies.add(copy(m)));
        return replies;
    }

    /**
     * Sends a dump request (NLM_F_REQUEST | NLM_F_DUMP) and hands every message of the answer
     * to {@code each}, in order, until NLMSG_DONE. A message (and its payload) is only valid
     * during that call.
     *
     * @return true when the dump was consistent; false when the kernel flagged it as
     *         interrupted (the table changed while it was read: some entries may be missing or
     *         repeated)
     */
    public synchronized boolean dump(int type, byte[] payload, String description, Consumer<NetlinkMessage> each)
            throws IOException {
        return exchange(type, NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_DUMP, payload, description, each);
    }

    /**
     * A whole table: dumps it, passing each message to {@code decode} (which returns the item, or null to skip the
     * message), and dumps again while the kernel flags the dump as interrupted, up to {@code attempts} times. A
     * {@code decode} that throws makes the answer malformed; the dump is still read to its end first, so the socket
     * stays in step.
     */
    public <T> List<T> dumpAll(int type, byte[] payload, String description, int attempts,
                               Function<NetlinkMessage, T> decode) throws IOException {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts: must be at least 1, got " + attempts);
        }
        Objects.requireNonNull(decode, "decode");
        for (int attempt = 1; attempt <= attempts; attempt++) {
            List<T> out = new ArrayList<>();
            RuntimeException[] bad = new RuntimeException[1];
            boolean consistent = dump(type, payload, description, m -> {
                if (bad[0] != null) {
                    return;
                }
                try {
                    T item = decode.apply(m);
                    if (item != null) {
                        out.add(item);
                    }
                } catch (RuntimeException e) {
                    bad[0] = e;
                }
            });
            if (bad[0] != null) {
                throw new IOException(description + where + ": malformed answer: " + bad[0].getMessage(), bad[0]);
            }
            if (consistent) {
                return out;
            }
        }
        throw new IOException(description + where + ": the kernel's table kept changing while it was read ("
                + attempts + " dumps in a row)");
    }

    /**
     * Sends {@code batch} in one datagram and returns the kernel's answers to its messages (acknowledgements and
     * errors), in the order they came. The kernel handles a datagram to its end inside the send (nfnetlink runs a
     * whole batch there, commit or abort included), so every answer is queued when the send returns and they are
     * read without waiting: a message that succeeded without asking for an acknowledgement (NLM_F_ACK) has none,
     * and one the kernel never reached (a batch cut short) has none either. Answers to earlier requests are
     * skipped.
     *
     * @param description what the batch does, for error messages
     * @throws NetlinkException when the send fails (EMSGSIZE: the datagram is larger than the send buffer) or
     *         answers were lost because they overran the receive buffer (ENOBUFS) and none of those that came is
     *         a refusal; the batch may have run then
     */
    public synchronized List<NetlinkBatch.Answer> send(NetlinkBatch batch, String description) throws IOException {
        Objects.requireNonNull(batch, "batch");
        String what = description + where;
        ensureOpen(what);
        if (batch.isEmpty()) {
            return List.of();
        }
        int first = nextSequence();
        sequence = (sequence + batch.size() - 1) & 0x7fffffff;
        sendDatagram(batch.encode(first, portId), what + " (" + batch.size() + " messages)");
        List<NetlinkBatch.Answer> answers = new ArrayList<>();
        NetlinkException overrun = null;
        while (true) {
            int n;
            try {
                n = receive(what, Native.MSG_DONTWAIT);
            } catch (NetlinkException e) {
                if (e.errno() != Errno.ENOBUFS) {
                    throw e;
                }
                overrun = e; // answers were dropped; the ones queued before are still there to read
                continue;
            }
            if (n < 0) {
                break;
            }
            for (NetlinkMessage m : decodeReceived(n, what)) {
                int index = m.sequence() - first;
                if (m.type() != NetlinkMessage.NLMSG_ERROR || index < 0 || index >= batch.size()) {
                    continue; // the late answer to an earlier request that timed out
                }
                answers.add(new NetlinkBatch.Answer(index, -errorCode(m, what), extendedAckMessage(m),
                        extendedAckOffset(m)));
            }
        }
        // Lost answers leave the outcome unknown, unless a refusal came through: one refusal and the batch was undone.
        if (overrun != null && answers.stream().allMatch(NetlinkBatch.Answer::ok)) {
            throw overrun;
        }
        return answers;
    }

    private boolean exchange(int type, int flags, byte[] payload, String description, Consumer<NetlinkMessage> each)
            throws IOException {
        Objects.requireNonNull(payload, "payload");
        String what = description + where;
        ensureOpen(what);
        int seq = nextSequence();
        sendDatagram(NetlinkMessage.encode(type, flags, seq, portId, payload), what);
        boolean consistent = true;
        while (true) {
            int n = receive(what, 0);
            for (NetlinkMessage m : decodeReceived(n, what)) {
                if (m.sequence() != seq) {
                    continue; // the late answer to an earlier request that timed out
                }
                switch (m.type()) {
                    case NetlinkMessage.NLMSG_ERROR: {
                        int error = errorCode(m, what);
                        if (error == 0) {
                            return consistent; // the acknowledgement
                        }
                        throw new NetlinkException(what, -error, extendedAckMessage(m));
                    }
                    case NetlinkMessage.NLMSG_DONE: {
                        ByteBuffer p = m.payload();
                        if (p.remaining() >= 4 && p.getInt(0) < 0) {
                            throw new NetlinkException(what, -p.getInt(0), null);
                        }
                        return consistent && (m.flags() & NetlinkMessage.NLM_F_DUMP_INTR) == 0;
                    }
                    case NetlinkMessage.NLMSG_NOOP:
                        continue;
                    case NetlinkMessage.NLMSG_OVERRUN:
                        throw new IOException(what + ": the kernel reports an overrun (data lost)");
                    default:
                        if ((m.flags() & NetlinkMessage.NLM_F_DUMP_INTR) != 0) {
                            consistent = false;
                        }
                        each.accept(m);
                }
            }
        }
    }

    private void sendDatagram(byte[] datagram, String what) throws IOException {
        long sent = libc.sendto(fd, datagram, datagram.length, 0, sockaddr(0), SOCKADDR_NL_LENGTH);
        if (sent < 0) {
            throw new NetlinkException(what + " (sendto, " + datagram.length + " bytes)", Native.errno(), null);
        }
        if (sent != datagram.length) {
            throw new IOException(what + ": sendto sent " + sent + " of " + datagram.length + " bytes");
        }
    }

    /** The messages of the datagram of {@code length} bytes in {@link #receiveBuffer}. */
    private List<NetlinkMessage> decodeReceived(int length, String what) throws IOException {
        try {
            return NetlinkMessage.decode(receiveBuffer, length);
        } catch (IllegalArgumentException e) {
            throw new IOException(what + ": malformed answer: " + e.getMessage(), e);
        }
    }

    /** The (negative or zero) error code of an NLMSG_ERROR. */
    private static int errorCode(NetlinkMessage error, String what) throws IOException {
        ByteBuffer p = error.payload();
        if (p.remaining() < 4) {
            throw new IOException(what + ": short NLMSG_ERROR (" + p.remaining() + " bytes)");
        }
        return p.getInt(0);
    }

    /**
     * One datagram from the kernel into {@link #receiveBuffer}; returns its length. With {@code flags}
     * MSG_DONTWAIT, returns -1 when none is queued; else waits up to the receive timeout.
     */
    private int receive(String what, int flags) throws IOException {
        byte[] from = new byte[SOCKADDR_NL_LENGTH];
        while (true) {
            int[] fromLength = {SOCKADDR_NL_LENGTH};
            long n = libc.recvfrom(fd, receiveBuffer, receiveBuffer.length, Native.MSG_TRUNC | flags, from, fromLength);
            if (n < 0) {
                int errno = Native.errno();
                if (errno == Errno.EINTR) {
                    continue;
                }
                if (errno == Errno.EAGAIN && (flags & Native.MSG_DONTWAIT) != 0) {
                    return -1;
                }
                if (errno == Errno.EAGAIN) {
                    throw new IOException(what + ": no answer from the kernel within " + DEFAULT_TIMEOUT.toSeconds() + " s");
                }
                throw new NetlinkException(what + " (recvfrom)", errno, null);
            }
            if (n > receiveBuffer.length) {
                throw new IOException(what + ": answer of " + n + " bytes truncated to " + receiveBuffer.length);
            }
            if (ByteBuffer.wrap(from).order(ByteOrder.nativeOrder()).getInt(4) != 0) {
                continue; // not from the kernel (port id 0): another process may not speak for it
            }
            return (int) n;
        }
    }

    /** The kernel's explanation in an extended ACK (NLMSGERR_ATTR_MSG), or null. */
    static String extendedAckMessage(NetlinkMessage error) {
        return NetlinkAttribute.find(extendedAck(error), NLMSGERR_ATTR_MSG).map(NetlinkAttribute::string).orElse(null);
    }

    /** The offset in the request of the attribute an extended ACK blames (NLMSGERR_ATTR_OFFS), or -1. */
    static int extendedAckOffset(NetlinkMessage error) {
        return NetlinkAttribute.find(extendedAck(error), NLMSGERR_ATTR_OFFS)
                .filter(a -> a.length() >= 4).map(a -> (int) a.u32()).orElse(-1);
    }

    /** The attributes after the echoed request in an NLMSG_ERROR; empty when there are none or they are malformed. */
    private static List<NetlinkAttribute> extendedAck(NetlinkMessage error) {
        if ((error.flags() & NetlinkMessage.NLM_F_ACK_TLVS) == 0) {
            return List.of();
        }
        ByteBuffer p = error.payload();
        if (p.remaining() < 4 + NetlinkMessage.HEADER_LENGTH) {
            return List.of();
        }
        int echoed = (error.flags() & NetlinkMessage.NLM_F_CAPPED) != 0
                ? NetlinkMessage.HEADER_LENGTH : NetlinkMessage.align(p.getInt(4));
        int start = 4 + echoed;
        if (start > p.limit()) {
            return List.of();
        }
        try {
            return NetlinkAttribute.parse(p.position(start));
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }

    private int nextSequence() {
        sequence = (sequence + 1) & 0x7fffffff;
        return sequence;
    }

    private void ensureOpen(String what) throws IOException {
        if (closed) {
            throw new IOException(what + ": the netlink socket is closed");
        }
    }

    private static NetlinkMessage copy(NetlinkMessage m) {
        ByteBuffer p = m.payload();
        byte[] bytes = new byte[p.remaining()];
        p.get(bytes);
        return new NetlinkMessage(m.type(), m.flags(), m.sequence(), m.portId(), ByteBuffer.wrap(bytes));
    }

    private static byte[] sockaddr(int pid) {
        ByteBuffer b = ByteBuffer.allocate(SOCKADDR_NL_LENGTH).order(ByteOrder.nativeOrder());
        b.putShort((short) Native.AF_NETLINK).putShort((short) 0).putInt(pid).putInt(0);
        return b.array();
    }

    private static byte[] intBytes(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "netlink socket (protocol " + protocol + ", port id " + portId + ")" + where;
    }
}
