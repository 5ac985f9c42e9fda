package dev.ferry.nativeio.ctnetlink;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * ctnetlink messages (linux/netfilter/nfnetlink_conntrack.h): the request payloads we send and
 * the flows the kernel dumps. Every ctnetlink payload starts with an nfgenmsg (family, version 0,
 * res_id 0); numbers inside the attributes are big-endian, as the kernel writes them.
 */
final class CtnetlinkCodec {

    static final int NFNL_SUBSYS_CTNETLINK = 1;
    static final int IPCTNL_MSG_CT_NEW = 0;
    static final int IPCTNL_MSG_CT_GET = 1;
    static final int IPCTNL_MSG_CT_DELETE = 2;

    static final int CTA_TUPLE_ORIG = 1;
    static final int CTA_TUPLE_REPLY = 2;
    static final int CTA_STATUS = 3;
    static final int CTA_TIMEOUT = 7;
    static final int CTA_MARK = 8;
    static final int CTA_ID = 12;
    static final int CTA_ZONE = 18;

    static final int CTA_TUPLE_IP = 1;
    static final int CTA_TUPLE_PROTO = 2;

    static final int CTA_IP_V4_SRC = 1;
    static final int CTA_IP_V4_DST = 2;
    static final int CTA_IP_V6_SRC = 3;
    static final int CTA_IP_V6_DST = 4;

    static final int CTA_PROTO_NUM = 1;
    static final int CTA_PROTO_SRC_PORT = 2;
    static final int CTA_PROTO_DST_PORT = 3;

    static final int NFGENMSG_LENGTH = 4;

    private CtnetlinkCodec() {
    }

    /** nlmsg_type of a ctnetlink message: subsystem in the high byte. */
    static int type(int message) {
        return (NFNL_SUBSYS_CTNETLINK << 8) | message;
    }

    static byte[] nfgenmsg(AddressFamily family) {
        return new byte[] {(byte) family.value(), 0, 0, 0};
    }

    /** The payload of IPCTNL_MSG_CT_GET with NLM_F_DUMP: the whole table of a family. */
    static byte[] dumpRequest(AddressFamily family) {
        return new AttributeWriter().header(nfgenmsg(family)).toByteArray();
    }

    /**
     * The payload of IPCTNL_MSG_CT_DELETE for one flow: its original tuple, its zone, and its
     * id when known, so only that very entry is removed.
     */
    static byte[] deleteRequest(ConntrackFlow flow) {
        AttributeWriter w = new AttributeWriter().header(nfgenmsg(flow.family()));
        writeTuple(w, CTA_TUPLE_ORIG, flow.original());
        if (flow.zone() != 0) {
            w.putBe16(CTA_ZONE, flow.zone());
        }
        if (flow.id() >= 0) {
            w.putBe32(CTA_ID, flow.id());
        }
        return w.toByteArray();
    }

    static void writeTuple(AttributeWriter w, int type, ConntrackTuple t) {
        if (!t.hasPorts()) {
            throw new IllegalArgumentException("cannot address a flow of IP protocol " + t.protocol()
                    + " (only TCP, UDP, DCCP, SCTP and UDP-Lite flows)");
        }
        boolean v6 = t.source().getAddress().length == 16;
        w.beginNested(type);
        w.beginNested(CTA_TUPLE_IP)
                .putAddress(v6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC, t.source())
                .putAddress(v6 ? CTA_IP_V6_DST : CTA_IP_V4_DST, t.destination())
                .endNested();
        w.beginNested(CTA_TUPLE_PROTO)
                .putU8(CTA_PROTO_NUM, t.protocol())
                .putBe16(CTA_PROTO_SRC_PORT, t.sourcePort())
                .putBe16(CTA_PROTO_DST_PORT, t.destinationPort())
                .endNested();
        w.endNested();
    }

    /**
     * Decodes one IPCTNL_MSG_CT_NEW message of a dump.
     *
     * @return null for a message that is not a flow of a known family
     * @throws IllegalArgumentException when the flow's attributes are malformed
     */
    static ConntrackFlow decodeFlow(NetlinkMessage m) {
        if (m.type() != type(IPCTNL_MSG_CT_NEW)) {
            return null;
        }
        ByteBuffer p = m.payload();
        if (p.remaining() < NFGENMSG_LENGTH) {
            throw new IllegalArgumentException("conntrack message of " + p.remaining() + " bytes has no nfgenmsg");
        }
        AddressFamily family = AddressFamily.of(p.get(0) & 0xff);
        if (family == null) {
            return null;
        }
        List<NetlinkAttribute> attrs = NetlinkAttribute.parse(p.position(NFGENMSG_LENGTH));
        ConntrackTuple original = tuple(attrs, CTA_TUPLE_ORIG, "CTA_TUPLE_ORIG");
        ConntrackTuple reply = tuple(attrs, CTA_TUPLE_REPLY, "CTA_TUPLE_REPLY");
        long id = NetlinkAttribute.find(attrs, CTA_ID).map(NetlinkAttribute::be32).orElse(-1L);
        int zone = NetlinkAttribute.find(attrs, CTA_ZONE).map(NetlinkAttribute::be16).orElse(0);
        long status = NetlinkAttribute.find(attrs, CTA_STATUS).map(NetlinkAttribute::be32).orElse(0L);
        long timeout = NetlinkAttribute.find(attrs, CTA_TIMEOUT).map(NetlinkAttribute::be32).orElse(0L);
        long mark = NetlinkAttribute.find(attrs, CTA_MARK).map(NetlinkAttribute::be32).orElse(0L);
        return new ConntrackFlow(family, original, reply, id, zone, status, timeout, mark);
    }

    private static ConntrackTuple tuple(List<NetlinkAttribute> attrs, int type, String name) {
        NetlinkAttribute tuple = NetlinkAttribute.find(attrs, type)
                .orElseThrow(() -> new IllegalArgumentException("conntrack flow without " + name));
        List<NetlinkAttribute> parts = tuple.nested();
        List<NetlinkAttribute> ip = NetlinkAttribute.find(parts, CTA_TUPLE_IP)
                .orElseThrow(() -> new IllegalArgumentException(name + " without CTA_TUPLE_IP")).nested();
        List<NetlinkAttribute> proto = NetlinkAttribute.find(parts, CTA_TUPLE_PROTO)
                .orElseThrow(() -> new IllegalArgumentException(name + " without CTA_TUPLE_PROTO")).nested();
        InetAddress src = address(ip, CTA_IP_V4_SRC, CTA_IP_V6_SRC, name + " source");
        InetAddress dst = address(ip, CTA_IP_V4_DST, CTA_IP_V6_DST, name + " destination");
        int protocol = NetlinkAttribute.find(proto, CTA_PROTO_NUM)
                .orElseThrow(() -> new IllegalArgumentException(name + " without CTA_PROTO_NUM")).u8();
        int sport = NetlinkAttribute.find(proto, CTA_PROTO_SRC_PORT).map(NetlinkAttribute::be16).orElse(0);
        int dport = NetlinkAttribute.find(proto, CTA_PROTO_DST_PORT).map(NetlinkAttribute::be16).orElse(0);
        return new ConntrackTuple(src, dst, protocol, sport, dport);
    }

    private static InetAddress address(List<NetlinkAttribute> ip, int v4, int v6, String what) {
        return NetlinkAttribute.find(ip, v4).or(() -> NetlinkAttribute.find(ip, v6))
                .orElseThrow(() -> new IllegalArgumentException(what + " address missing")).address();
    }
}
