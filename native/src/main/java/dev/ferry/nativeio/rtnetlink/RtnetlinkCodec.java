package dev.ferry.nativeio.rtnetlink;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * rtnetlink messages for links and addresses (linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h): the
 * requests we send and the links and addresses the kernel answers with. Link payloads start with an ifinfomsg
 * (16 bytes), address payloads with an ifaddrmsg (8 bytes); both in host byte order.
 */
final class RtnetlinkCodec {

    static final int RTM_NEWLINK = 16;
    static final int RTM_DELLINK = 17;
    static final int RTM_GETLINK = 18;
    static final int RTM_NEWADDR = 20;
    static final int RTM_DELADDR = 21;
    static final int RTM_GETADDR = 22;

    static final int IFINFOMSG_LENGTH = 16;
    static final int IFADDRMSG_LENGTH = 8;

    static final int IFLA_IFNAME = 3;
    static final int IFLA_EXT_MASK = 29;
    /** In IFLA_EXT_MASK: leave the link's statistics (most of the answer) out. */
    static final int RTEXT_FILTER_SKIP_STATS = 1 << 3;
    static final int IFLA_LINKINFO = 18;
    static final int IFLA_INFO_KIND = 1;

    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;

    static final int IFF_UP = 0x1;
    static final int AF_UNSPEC = 0;
    /** Linux's IFNAMSIZ less the terminating NUL. */
    static final int MAX_NAME_BYTES = 15;

    private RtnetlinkCodec() {
    }

    /**
     * Checks a link name the way the kernel's dev_valid_name does, but stricter (printable ASCII only), so a
     * name that reaches the kernel is one it takes as it is.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static String checkName(String name) {
        if (name == null) {
            throw new IllegalArgumentException("link name is null");
        }
        if (name.isEmpty() || name.length() > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("link name \"" + name + "\" must have 1 to " + MAX_NAME_BYTES
                    + " characters (IFNAMSIZ), has " + name.length());
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("link name \"" + name + "\" is reserved");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c > '~' || c == '/' || c == ':') {
                throw new IllegalArgumentException("link name \"" + name + "\" has a forbidden character at index "
                        + i + " (whitespace, control, non-ASCII, '/' and ':' are not allowed)");
            }
        }
        return name;
    }

    static byte[] ifinfomsg(int index, int flags, int change) {
        return ByteBuffer.allocate(IFINFOMSG_LENGTH).order(ByteOrder.nativeOrder())
                .put((byte) AF_UNSPEC).put((byte) 0).putShort((short) 0)
                .putInt(index).putInt(flags).putInt(change).array();
    }

    static byte[] ifaddrmsg(int family, int prefixLength, int index) {
        return ByteBuffer.allocate(IFADDRMSG_LENGTH).order(ByteOrder.nativeOrder())
                .put((byte) family).put((byte) prefixLength).put((byte) 0).put((byte) 0) // flags, scope universe
                .putInt(index).array();
    }

    /** RTM_GETLINK for one link by name (the kernel answers ENODEV when there is none), without statistics. */
    static byte[] getLinkRequest(String name) {
        return new AttributeWriter().header(ifinfomsg(0, 0, 0))
                .putU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)
                .putString(IFLA_IFNAME, checkName(name))
                .toByteArray();
    }

    /**
     * RTM_NEWLINK creating a dummy link, as `ip link add NAME type dummy` does: a name and IFLA_LINKINFO with
     * IFLA_INFO_KIND "dummy", no flags (the link stays down, as upstream kube-proxy leaves kube-ipvs0).
     * Byte for byte what iproute2 sends: IFLA_LINKINFO without NLA_F_NESTED and the kind without its NUL (the
     * kernel takes either form; this keeps us on the path every `ip link add` takes).
     */
    static byte[] newDummyRequest(String name) {
        byte[] linkInfo = new AttributeWriter().put(IFLA_INFO_KIND, "dummy".getBytes(StandardCharsets.US_ASCII))
                .toByteArray();
        return new AttributeWriter().header(ifinfomsg(0, 0, 0))
                .putString(IFLA_IFNAME, checkName(name))
                .put(IFLA_LINKINFO, linkInfo)
                .toByteArray();
    }

    /** RTM_DELLINK by index. */
    static byte[] deleteLinkRequest(int index) {
        checkIndex(index);
        return new AttributeWriter().header(ifinfomsg(index, 0, 0)).toByteArray();
    }

    /** RTM_GETADDR dump of every address (the kernel filters by index only in strict mode; we filter on reading). */
    static byte[] addressDumpRequest() {
        return new AttributeWriter().header(ifaddrmsg(AF_UNSPEC, 0, 0)).toByteArray();
    }

    /**
     * RTM_NEWADDR or RTM_DELADDR for one address, as `ip addr add|del ADDRESS/PREFIX dev LINK` sends it:
     * IFA_LOCAL and IFA_ADDRESS both the address (no peer), scope universe.
     */
    static byte[] addressRequest(int index, InetAddress address, int prefixLength) {
        checkIndex(index);
        int max = address.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range 0.." + max
                    + " for " + address.getHostAddress());
        }
        return new AttributeWriter().header(ifaddrmsg(family(address).value(), prefixLength, index))
                .putAddress(IFA_LOCAL, address)
                .putAddress(IFA_ADDRESS, address)
                .toByteArray();
    }

    static AddressFamily family(InetAddress address) {
        return address instanceof Inet4Address ? AddressFamily.INET : AddressFamily.INET6;
    }

    /** The prefix of a service address on kube-ipvs0: the host route, /32 or /128. */
    static int hostPrefix(InetAddress address) {
        return address.getAddress().length * 8;
    }

    /**
     * Decodes an RTM_NEWLINK message (the answer to RTM_GETLINK, or one of a dump).
     *
     * @return null for another message type
     * @throws IllegalArgumentException when the message is malformed
     */
    static Link decodeLink(NetlinkMessage m) {
        if (m.type() != RTM_NEWLINK) {
            return null;
        }
        ByteBuffer p = m.payload();
        if (p.remaining() < IFINFOMSG_LENGTH) {
            throw new IllegalArgumentException("link message of " + p.remaining() + " bytes has no ifinfomsg");
        }
        int index = p.getInt(4);
        int flags = p.getInt(8);
        List<NetlinkAttribute> attrs = NetlinkAttribute.parse(p.position(IFINFOMSG_LENGTH));
        String name = NetlinkAttribute.find(attrs, IFLA_IFNAME)
                .orElseThrow(() -> new IllegalArgumentException("link " + index + " without IFLA_IFNAME")).string();
        String kind = NetlinkAttribute.find(attrs, IFLA_LINKINFO)
                .flatMap(info -> NetlinkAttribute.find(info.nested(), IFLA_INFO_KIND))
                .map(NetlinkAttribute::string).orElse("");
        return new Link(index, name, kind, (flags & IFF_UP) != 0);
    }

    /**
     * Decodes an RTM_NEWADDR message of a dump. The address is IFA_LOCAL when present (IPv4: IFA_ADDRESS is
     * the peer there), else IFA_ADDRESS (IPv6 sends only that).
     *
     * @return null for another message type or an address family other than IPv4 and IPv6
     * @throws IllegalArgumentException when the message is malformed
     */
    static LinkAddress decodeAddress(NetlinkMessage m) {
        if (m.type() != RTM_NEWADDR) {
            return null;
        }
        ByteBuffer p = m.payload();
        if (p.remaining() < IFADDRMSG_LENGTH) {
            throw new IllegalArgumentException("address message of " + p.remaining() + " bytes has no ifaddrmsg");
        }
        AddressFamily family = AddressFamily.of(p.get(0) & 0xff);
        if (family == null) {
            return null;
        }
        int prefixLength = p.get(1) & 0xff;
        int index = p.getInt(4);
        List<NetlinkAttribute> attrs = NetlinkAttribute.parse(p.position(IFADDRMSG_LENGTH));
        NetlinkAttribute a = NetlinkAttribute.find(attrs, IFA_LOCAL).or(() -> NetlinkAttribute.find(attrs, IFA_ADDRESS))
                .orElseThrow(() -> new IllegalArgumentException("address on link " + index
                        + " without IFA_LOCAL and IFA_ADDRESS"));
        if (a.length() != family.addressLength()) {
            throw new IllegalArgumentException("address on link " + index + ": " + family + " needs "
                    + family.addressLength() + " bytes, got " + a.length());
        }
        return new LinkAddress(index, a.address(), prefixLength);
    }

    static void checkIndex(int index) {
        if (index <= 0) {
            throw new IllegalArgumentException("link index must be positive, got " + index);
        }
    }
}
