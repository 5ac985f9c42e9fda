package dev.ferry.ipvs.netlink;

import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.GenericNetlink;
import dev.ferry.nativeio.NetlinkAttribute;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * IPVS generic netlink messages (linux include/uapi/linux/ip_vs.h; the kernel side is net/netfilter/ipvs/ip_vs_ctl.c):
 * the request payloads we send and the services, destinations and timeouts the kernel answers with. A payload is
 * the genlmsghdr (command, version 1) and then first-level attributes; a service and a destination each travel as
 * one nested attribute.
 *
 * <p>Byte order, as the kernel reads and writes them: AF, protocol, weights, timeouts in host order; ports
 * big-endian; addresses as the 16-byte union nf_inet_addr (IPv4 in the first four bytes); flags as struct
 * ip_vs_flags {u32 flags; u32 mask} in host order; the netmask is copied raw, so an IPv4 mask is in network order
 * while an IPv6 one is a host-order prefix length.
 */
final class IpvsCodec {

    static final int GENL_VERSION = 1;

    static final int CMD_NEW_SERVICE = 1;
    static final int CMD_SET_SERVICE = 2;
    static final int CMD_DEL_SERVICE = 3;
    static final int CMD_GET_SERVICE = 4;
    static final int CMD_NEW_DEST = 5;
    static final int CMD_SET_DEST = 6;
    static final int CMD_DEL_DEST = 7;
    static final int CMD_GET_DEST = 8;
    static final int CMD_SET_CONFIG = 12;
    static final int CMD_GET_CONFIG = 13;
    static final int CMD_FLUSH = 17;

    static final int CMD_ATTR_SERVICE = 1;
    static final int CMD_ATTR_DEST = 2;
    static final int CMD_ATTR_TIMEOUT_TCP = 4;
    static final int CMD_ATTR_TIMEOUT_TCP_FIN = 5;
    static final int CMD_ATTR_TIMEOUT_UDP = 6;

    static final int SVC_ATTR_AF = 1;
    static final int SVC_ATTR_PROTOCOL = 2;
    static final int SVC_ATTR_ADDR = 3;
    static final int SVC_ATTR_PORT = 4;
    static final int SVC_ATTR_FWMARK = 5;
    static final int SVC_ATTR_SCHED_NAME = 6;
    static final int SVC_ATTR_FLAGS = 7;
    static final int SVC_ATTR_TIMEOUT = 8;
    static final int SVC_ATTR_NETMASK = 9;

    static final int DEST_ATTR_ADDR = 1;
    static final int DEST_ATTR_PORT = 2;
    static final int DEST_ATTR_FWD_METHOD = 3;
    static final int DEST_ATTR_WEIGHT = 4;
    static final int DEST_ATTR_U_THRESH = 5;
    static final int DEST_ATTR_L_THRESH = 6;
    static final int DEST_ATTR_ACTIVE_CONNS = 7;
    static final int DEST_ATTR_INACT_CONNS = 8;
    static final int DEST_ATTR_ADDR_FAMILY = 11;

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int IPPROTO_TCP = 6;
    static final int IPPROTO_UDP = 17;
    static final int IPPROTO_SCTP = 132;

    /** IP_VS_CONN_F_FWD_MASK: the forwarding method bits of a destination's connection flags. */
    static final int FWD_MASK = 0x7;
    private static final int NF_INET_ADDR_LENGTH = 16;

    private IpvsCodec() {
    }

    // ---- requests ----

    /** Only the command: IPVS_CMD_GET_SERVICE (as a dump), IPVS_CMD_FLUSH, IPVS_CMD_GET_CONFIG. */
    static byte[] command(int command) {
        return new AttributeWriter().header(GenericNetlink.header(command, GENL_VERSION)).toByteArray();
    }

    /**
     * A service command. {@code full} (NEW/SET_SERVICE) adds scheduler, flags, timeout and netmask, which the
     * kernel demands there; DEL_SERVICE and the destination commands only need the identifying attributes.
     */
    static byte[] service(int command, VirtualServer vs, boolean full) {
        AttributeWriter w = new AttributeWriter().header(GenericNetlink.header(command, GENL_VERSION));
        putService(w, vs, full);
        return w.toByteArray();
    }

    /** A destination command for {@code rs} of {@code vs}; {@code full} for NEW/SET_DEST. */
    static byte[] dest(int command, VirtualServer vs, RealServer rs, boolean full) {
        AttributeWriter w = new AttributeWriter().header(GenericNetlink.header(command, GENL_VERSION));
        putService(w, vs, false);
        w.beginNested(CMD_ATTR_DEST)
                .put(DEST_ATTR_ADDR, nfInetAddr(rs.address()))
                .putBe16(DEST_ATTR_PORT, rs.port())
                .putU16(DEST_ATTR_ADDR_FAMILY, af(IpFamily.of(rs.address())));
        if (full) {
            w.putU32(DEST_ATTR_FWD_METHOD, rs.forwardMethod().value)
                    .putU32(DEST_ATTR_WEIGHT, rs.weight())
                    .putU32(DEST_ATTR_U_THRESH, 0)  // 0 = no connection limit
                    .putU32(DEST_ATTR_L_THRESH, 0);
        }
        w.endNested();
        return w.toByteArray();
    }

    /** IPVS_CMD_GET_DEST as a dump: every destination of {@code vs}. */
    static byte[] destDump(VirtualServer vs) {
        return service(CMD_GET_DEST, vs, false);
    }

    /** IPVS_CMD_SET_CONFIG: the three timeouts in seconds (0 leaves one unchanged). */
    static byte[] setTimeouts(IpvsTimeouts t) {
        return new AttributeWriter().header(GenericNetlink.header(CMD_SET_CONFIG, GENL_VERSION))
                .putU32(CMD_ATTR_TIMEOUT_TCP, t.tcp().getSeconds())
                .putU32(CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFin().getSeconds())
                .putU32(CMD_ATTR_TIMEOUT_UDP, t.udp().getSeconds())
                .toByteArray();
    }

    private static void putService(AttributeWriter w, VirtualServer vs, boolean full) {
        w.beginNested(CMD_ATTR_SERVICE)
                .putU16(SVC_ATTR_AF, af(vs.family()))
                .putU16(SVC_ATTR_PROTOCOL, protocolNumber(vs.protocol()))
                .put(SVC_ATTR_ADDR, nfInetAddr(vs.address()))
                .putBe16(SVC_ATTR_PORT, vs.port());
        if (full) {
            int flags = vs.flags() | (vs.persistenceTimeoutSeconds() > 0 ? VirtualServer.FLAG_PERSISTENT : 0);
            // mask ~0: every flag is set or cleared as given, none kept from an existing service
            byte[] ipVsFlags = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(flags).putInt(-1).array();
            w.putString(SVC_ATTR_SCHED_NAME, vs.scheduler())
                    .put(SVC_ATTR_FLAGS, ipVsFlags)
                    .putU32(SVC_ATTR_TIMEOUT, vs.persistenceTimeoutSeconds())
                    .put(SVC_ATTR_NETMASK, netmask(vs.family(), vs.netmask()));
        }
        w.endNested();
    }

    static byte[] nfInetAddr(InetAddress address) {
        return Arrays.copyOf(address.getAddress(), NF_INET_ADDR_LENGTH);
    }

    static byte[] netmask(IpFamily family, int prefix) {
        if (family == IpFamily.IPV6) {
            return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(prefix).array();
        }
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(mask).array();
    }

    static int af(IpFamily family) {
        return family.af();
    }

    static int protocolNumber(Protocol protocol) {
        switch (protocol) {
            case TCP: return IPPROTO_TCP;
            case UDP: return IPPROTO_UDP;
            case SCTP: return IPPROTO_SCTP;
            default: throw new AssertionError(protocol);
        }
    }

    // ---- answers ----

    /** The genlmsghdr command of a generic netlink payload (position unchanged). */
    static int command(ByteBuffer payload) {
        if (payload.remaining() < GenericNetlink.HEADER_LENGTH) {
            throw new IllegalArgumentException("generic netlink payload of " + payload.remaining() + " bytes");
        }
        return payload.get(payload.position()) & 0xff;
    }

    static List<NetlinkAttribute> attributes(ByteBuffer payload) {
        command(payload);
        ByteBuffer b = payload.duplicate();
        return NetlinkAttribute.parse(b.position(b.position() + GenericNetlink.HEADER_LENGTH));
    }

    /**
     * The service in one IPVS_CMD_NEW_SERVICE answer; null for one we do not represent (a firewall-mark service, a
     * port-0 "all ports" service, an unknown protocol or a non-contiguous netmask): those are not ours.
     *
     * @throws IllegalArgumentException when the message is malformed
     */
    static VirtualServer decodeService(ByteBuffer payload) {
        List<NetlinkAttribute> top = attributes(payload);
        List<NetlinkAttribute> a = NetlinkAttribute.find(top, CMD_ATTR_SERVICE)
                .orElseThrow(() -> new IllegalArgumentException("IPVS service message without IPVS_CMD_ATTR_SERVICE"))
                .nested();
        if (NetlinkAttribute.find(a, SVC_ATTR_FWMARK).isPresent()) {
            return null;
        }
        IpFamily family = family(required(a, SVC_ATTR_AF, "AF").u16());
        Protocol protocol = protocol(required(a, SVC_ATTR_PROTOCOL, "PROTOCOL").u16());
        InetAddress address = address(family, required(a, SVC_ATTR_ADDR, "ADDR"));
        int port = required(a, SVC_ATTR_PORT, "PORT").be16();
        if (family == null || protocol == null || port == 0) {
            return null;
        }
        String scheduler = required(a, SVC_ATTR_SCHED_NAME, "SCHED_NAME").string();
        NetlinkAttribute flagsAttribute = required(a, SVC_ATTR_FLAGS, "FLAGS");
        if (flagsAttribute.length() < 4) {
            throw new IllegalArgumentException("IPVS_SVC_ATTR_FLAGS of " + flagsAttribute.length() + " bytes");
        }
        int kernelFlags = flagsAttribute.value().getInt(0);
        int timeout = (int) Math.min(Integer.MAX_VALUE, required(a, SVC_ATTR_TIMEOUT, "TIMEOUT").u32());
        int prefix = prefix(family, required(a, SVC_ATTR_NETMASK, "NETMASK"));
        if (prefix < 0) {
            return null;
        }
        boolean persistent = (kernelFlags & VirtualServer.FLAG_PERSISTENT) != 0;
        int flags = kernelFlags & ~(VirtualServer.FLAG_PERSISTENT | VirtualServer.FLAG_HASHED);
        return new VirtualServer(family, protocol, address, port, scheduler, flags, persistent ? timeout : 0, prefix);
    }

    /**
     * The destination in one IPVS_CMD_NEW_DEST answer; its family is the service's unless the kernel says
     * otherwise (IPVS_DEST_ATTR_ADDR_FAMILY, kernels since 4.3).
     */
    static RealServer decodeDest(ByteBuffer payload, IpFamily serviceFamily) {
        List<NetlinkAttribute> a = NetlinkAttribute.find(attributes(payload), CMD_ATTR_DEST)
                .orElseThrow(() -> new IllegalArgumentException("IPVS destination message without IPVS_CMD_ATTR_DEST"))
                .nested();
        IpFamily family = NetlinkAttribute.find(a, DEST_ATTR_ADDR_FAMILY).map(f -> family(f.u16())).orElse(serviceFamily);
        if (family == null) {
            throw new IllegalArgumentException("IPVS destination of unknown address family");
        }
        InetAddress address = address(family, required(a, DEST_ATTR_ADDR, "ADDR"));
        int port = required(a, DEST_ATTR_PORT, "PORT").be16();
        int method = (int) required(a, DEST_ATTR_FWD_METHOD, "FWD_METHOD").u32() & FWD_MASK;
        int weight = (int) Math.min(Integer.MAX_VALUE, required(a, DEST_ATTR_WEIGHT, "WEIGHT").u32());
        int active = count(NetlinkAttribute.find(a, DEST_ATTR_ACTIVE_CONNS).map(NetlinkAttribute::u32).orElse(0L));
        int inactive = count(NetlinkAttribute.find(a, DEST_ATTR_INACT_CONNS).map(NetlinkAttribute::u32).orElse(0L));
        return new RealServer(address, port, weight, RealServer.ForwardMethod.of(method), active, inactive);
    }

    /** The timeouts in an IPVS_CMD_GET_CONFIG answer; one the kernel leaves out (protocol not built in) is 0. */
    static IpvsTimeouts decodeTimeouts(ByteBuffer payload) {
        List<NetlinkAttribute> a = attributes(payload);
        return new IpvsTimeouts(seconds(a, CMD_ATTR_TIMEOUT_TCP), seconds(a, CMD_ATTR_TIMEOUT_TCP_FIN),
                seconds(a, CMD_ATTR_TIMEOUT_UDP));
    }

    private static Duration seconds(List<NetlinkAttribute> a, int type) {
        return Duration.ofSeconds(NetlinkAttribute.find(a, type).map(NetlinkAttribute::u32).orElse(0L));
    }

    private static int count(long value) {
        return (int) Math.min(Integer.MAX_VALUE, value);
    }

    private static NetlinkAttribute required(List<NetlinkAttribute> a, int type, String name) {
        return NetlinkAttribute.find(a, type)
                .orElseThrow(() -> new IllegalArgumentException("IPVS message without attribute " + name));
    }

    private static IpFamily family(int af) {
        return af == AF_INET ? IpFamily.IPV4 : af == AF_INET6 ? IpFamily.IPV6 : null;
    }

    private static Protocol protocol(int number) {
        switch (number) {
            case IPPROTO_TCP: return Protocol.TCP;
            case IPPROTO_UDP: return Protocol.UDP;
            case IPPROTO_SCTP: return Protocol.SCTP;
            default: return null;
        }
    }

    private static InetAddress address(IpFamily family, NetlinkAttribute attribute) {
        if (family == null) {
            return null;
        }
        int length = family.bytes();
        byte[] bytes = attribute.bytes();
        if (bytes.length < length) {
            throw new IllegalArgumentException("IPVS address of " + bytes.length + " bytes for " + family);
        }
        try {
            return InetAddress.getByAddress(Arrays.copyOf(bytes, length));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** The netmask attribute as a prefix length; -1 when an IPv4 mask is not contiguous. */
    private static int prefix(IpFamily family, NetlinkAttribute attribute) {
        if (family == IpFamily.IPV6) {
            return (int) attribute.u32();
        }
        int mask = (int) attribute.be32();
        int prefix = Integer.bitCount(mask);
        return mask == (prefix == 0 ? 0 : -1 << (32 - prefix)) ? prefix : -1;
    }
}
