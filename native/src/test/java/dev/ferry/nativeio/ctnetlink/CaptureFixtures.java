package dev.ferry.nativeio.ctnetlink;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * Not a test: prints the raw bytes of real ctnetlink dump messages, to refresh the fixtures in
 * src/test/resources (run as root: a throwaway namespace pair gets a DNAT rule and a few UDP
 * flows). Each line: one message as the kernel sent it, in hex.
 */
public final class CaptureFixtures {

    public static void main(String[] args) throws Exception {
        try (TestNetns ns = new TestNetns()) {
            ns.in(ns.node, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "-d", "10.96.0.10", "--dport", "53",
                    "-j", "DNAT", "--to-destination", TestNetns.PEER_V4 + ":5353");
            ns.in(ns.node, "ip6tables", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "-d", "fd96::10", "--dport", "53",
                    "-j", "DNAT", "--to-destination", "[" + TestNetns.PEER_V6 + "]:5353");
            ns.in(ns.node, "ip", "route", "add", "10.96.0.0/16", "dev", "veth0");
            ns.in(ns.node, "ip", "-6", "route", "add", "fd96::/64", "dev", "veth0");
            ns.sendUdp("10.96.0.10", 53, 40001);
            ns.sendUdp(TestNetns.PEER_V4, 7777, 40002);
            ns.sendUdp("fd96::10", 53, 40003);
            for (AddressFamily family : AddressFamily.values()) {
                System.out.println("# " + family);
                try (NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_NETFILTER, ns.nodeFile())) {
                    s.dump(CtnetlinkCodec.type(CtnetlinkCodec.IPCTNL_MSG_CT_GET), CtnetlinkCodec.dumpRequest(family),
                            "dump", m -> {
                                ByteBuffer p = m.payload();
                                byte[] payload = new byte[p.remaining()];
                                p.get(payload);
                                byte[] whole = NetlinkMessage.encode(m.type(), m.flags(), m.sequence(), m.portId(), payload);
                                System.out.println(HexFormat.of().formatHex(whole));
                                System.out.println("#   " + CtnetlinkCodec.decodeFlow(m));
                            });
                }
            }
            System.out.println(ns.in(ns.node, "conntrack", "-L", "-f", "ipv4"));
            System.out.println(ns.in(ns.node, "conntrack", "-L", "-f", "ipv6"));
        }
    }
}
