package dev.ferry.ipvs.netlink;

import dev.ferry.core.IpFamily;
import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.GenericNetlink;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The kernel's IPVS table over generic netlink (family "IPVS"): virtual services, their real servers and the
 * connection timeouts. Replaces ipvsadm.
 *
 * <p>Threads: one call at a time (the socket serializes requests); any thread may call, and a call blocks until
 * the kernel answers. Failures: the kernel's refusal is a {@link NetlinkException} whose message names the
 * operation and the object, e.g. "add service TCP 10.96.0.10:80: File exists (EEXIST, errno 17)", with
 * {@link NetlinkException#errno()} to act on; a malformed answer is an IOException. Nothing is retried or undone
 * here: the caller's next sync compares the table again. Bad arguments fail fast before anything is sent.
 */
public final class IpvsClient implements AutoCloseable {

    static final String FAMILY = "IPVS";
    /** A dump the kernel marks as interrupted is read again this many times before giving up. */
    private static final int DUMP_ATTEMPTS = 3;

    private final NetlinkSocket socket;
    private final int family;

    private IpvsClient(NetlinkSocket socket) throws IOException {
        this.socket = socket;
        try {
            this.family = GenericNetlink.familyId(socket, FAMILY);
        } catch (NetlinkException e) {
            socket.close();
            if (e.errno() == Errno.ENOENT) {
                throw new NetlinkException("look up generic netlink family IPVS (is the ip_vs module loaded?)",
                        e.errno(), null);
            }
            throw e;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The IPVS table of this process's network namespace. */
    public static IpvsClient open() throws IOException {
        return new IpvsClient(NetlinkSocket.open(NetlinkSocket.NETLINK_GENERIC));
    }

    /** The IPVS table of the network namespace {@code netnsFile} refers to (e.g. /run/netns/NAME). */
    public static IpvsClient open(Path netnsFile) throws IOException {
        return new IpvsClient(NetlinkSocket.open(NetlinkSocket.NETLINK_GENERIC, netnsFile));
    }

    /** Every TCP/UDP/SCTP virtual service (firewall-mark and port-0 services are skipped: not ours). */
    public List<VirtualServer> services() throws IOException {
        return dump(IpvsCodec.command(IpvsCodec.CMD_GET_SERVICE), "list IPVS services", IpvsCodec.CMD_NEW_SERVICE,
                IpvsCodec::decodeService);
    }

    public void addService(VirtualServer vs) throws IOException {
        Objects.requireNonNull(vs, "vs");
        command(IpvsCodec.service(IpvsCodec.CMD_NEW_SERVICE, vs, true), "add service " + vs.label());
    }

    /** Sets scheduler, flags, persistence and netmask of an existing service (ESRCH when there is none). */
    public void updateService(VirtualServer vs) throws IOException {
        Objects.requireNonNull(vs, "vs");
        command(IpvsCodec.service(IpvsCodec.CMD_SET_SERVICE, vs, true), "update service " + vs.label());
    }

    /** Deletes the service (matched by protocol, address and port) and its real servers. */
    public void deleteService(VirtualServer vs) throws IOException {
        Objects.requireNonNull(vs, "vs");
        command(IpvsCodec.service(IpvsCodec.CMD_DEL_SERVICE, vs, false), "delete service " + vs.label());
    }

    /** The real servers of {@code vs}; empty when the service does not exist (the kernel answers so). */
    public List<RealServer> realServers(VirtualServer vs) throws IOException {
        Objects.requireNonNull(vs, "vs");
        return dump(IpvsCodec.destDump(vs), "list real servers of service " + vs.label(), IpvsCodec.CMD_NEW_DEST,
                payload -> IpvsCodec.decodeDest(payload, vs.family()));
    }

    public void addRealServer(VirtualServer vs, RealServer rs) throws IOException {
        checkWritable(vs, rs);
        command(IpvsCodec.dest(IpvsCodec.CMD_NEW_DEST, vs, rs, true), destDescription("add", vs, rs));
    }

    /** Sets the weight of an existing real server (ENOENT when there is none). */
    public void updateRealServer(VirtualServer vs, RealServer rs) throws IOException {
        checkWritable(vs, rs);
        command(IpvsCodec.dest(IpvsCodec.CMD_SET_DEST, vs, rs, true), destDescription("update", vs, rs));
    }

    public void deleteRealServer(VirtualServer vs, RealServer rs) throws IOException {
        Objects.requireNonNull(vs, "vs");
        Objects.requireNonNull(rs, "rs");
        command(IpvsCodec.dest(IpvsCodec.CMD_DEL_DEST, vs, rs, false), destDescription("delete", vs, rs));
    }

    /** Deletes every virtual service of this namespace: only for cleanup, never to sync. */
    public void flush() throws IOException {
        command(IpvsCodec.command(IpvsCodec.CMD_FLUSH), "flush IPVS services");
    }

    public IpvsTimeouts timeouts() throws IOException {
        String what = "read IPVS timeouts";
        for (NetlinkMessage m : socket.request(family, 0, IpvsCodec.command(IpvsCodec.CMD_GET_CONFIG), what)) {
            if (m.type() == family && IpvsCodec.command(m.payload()) == IpvsCodec.CMD_SET_CONFIG) {
                try {
                    return IpvsCodec.decodeTimeouts(m.payload());
                } catch (RuntimeException e) {
                    throw new IOException(what + ": malformed answer: " + e.getMessage(), e);
                }
            }
        }
        throw new IOException(what + ": the kernel's answer has no timeouts");
    }

    /** Sets the TCP, TCP FIN and UDP timeouts; a zero one stays as it is. */
    public void setTimeouts(IpvsTimeouts timeouts) throws IOException {
        Objects.requireNonNull(timeouts, "timeouts");
        command(IpvsCodec.setTimeouts(timeouts), "set IPVS timeouts " + timeouts.tcp().getSeconds() + "s "
                + timeouts.tcpFin().getSeconds() + "s " + timeouts.udp().getSeconds() + "s");
    }

    private void command(byte[] payload, String description) throws IOException {
        socket.request(family, 0, payload, description);
    }

    private <T> List<T> dump(byte[] request, String what, int answerCommand, Function<ByteBuffer, T> decoder)
            throws IOException {
        return socket.dumpAll(family, request, what, DUMP_ATTEMPTS,
                m -> m.type() == family && IpvsCodec.command(m.payload()) == answerCommand
                        ? decoder.apply(m.payload())
                        : null);
    }

    private static void checkWritable(VirtualServer vs, RealServer rs) {
        Objects.requireNonNull(vs, "vs");
        Objects.requireNonNull(rs, "rs");
        if (rs.forwardMethod() != RealServer.ForwardMethod.MASQUERADE) {
            throw new IllegalArgumentException("real server " + rs.label() + " of service " + vs.label()
                    + ": only masquerading is written, not " + rs.forwardMethod());
        }
        if (IpFamily.of(rs.address()) != vs.family()) {
            throw new IllegalArgumentException("real server " + rs.label() + " of service " + vs.label()
                    + ": address family differs from the service's (the kernel allows that only for tunnels)");
        }
    }

    private static String destDescription(String verb, VirtualServer vs, RealServer rs) {
        return verb + " real server " + rs.label() + " of service " + vs.label();
    }

    @Override
    public void close() {
        socket.close();
    }

    @Override
    public String toString() {
        return "IPVS client (generic netlink family " + family + ") on " + socket;
    }
}
