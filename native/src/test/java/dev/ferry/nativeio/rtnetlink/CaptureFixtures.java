package dev.ferry.nativeio.rtnetlink;

import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

/**
 * Not a test: prints the raw bytes of real rtnetlink answers about a dummy link, to refresh the hex in
 * RtnetlinkCodecTest. This machine's kernel has no dummy links, so it runs inside the user-mode-linux guest (as
 * root, dummy module loaded): `ip link add kube-ipvs0 type dummy`, `ip addr add 10.96.0.10/32 dev kube-ipvs0`,
 * `ip addr add fd00:96::10/128 dev kube-ipvs0`, then this main with the native module's test classpath. Each line:
 * one message as the kernel sent it, in hex, then what iproute2 says about the same link.
 */
public final class CaptureFixtures {

    public static void main(String[] args) throws Exception {
        try (NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE)) {
            System.out.println("# RTM_GETLINK kube-ipvs0");
            for (NetlinkMessage m : s.request(RtnetlinkCodec.RTM_GETLINK, 0,
                    RtnetlinkCodec.getLinkRequest("kube-ipvs0"), "get link")) {
                print(m);
                System.out.println("#   " + RtnetlinkCodec.decodeLink(m));
            }
            System.out.println("# RTM_GETLINK lo");
            for (NetlinkMessage m : s.request(RtnetlinkCodec.RTM_GETLINK, 0, RtnetlinkCodec.getLinkRequest("lo"),
                    "get link")) {
                print(m);
                System.out.println("#   " + RtnetlinkCodec.decodeLink(m));
            }
            int index = RtnetlinkCodec.decodeLink(s.request(RtnetlinkCodec.RTM_GETLINK, 0,
                    RtnetlinkCodec.getLinkRequest("kube-ipvs0"), "get link").get(0)).index();
            System.out.println("# RTM_GETADDR dump, messages of link " + index);
            s.dump(RtnetlinkCodec.RTM_GETADDR, RtnetlinkCodec.addressDumpRequest(), "dump addresses", m -> {
                LinkAddress a = RtnetlinkCodec.decodeAddress(m);
                if (a != null && a.index() == index) {
                    print(m);
                    System.out.println("#   " + a);
                }
            });
        }
        for (List<String> command : List.of(List.of("ip", "-d", "link", "show", "kube-ipvs0"),
                List.of("ip", "addr", "show", "kube-ipvs0"))) {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            System.out.println("# " + String.join(" ", command));
            new String(p.getInputStream().readAllBytes()).lines().forEach(l -> System.out.println("#   " + l));
            p.waitFor();
        }
    }

    private static void print(NetlinkMessage m) {
        ByteBuffer p = m.payload();
        byte[] payload = new byte[p.remaining()];
        p.get(payload);
        System.out.println(HexFormat.of().formatHex(
                NetlinkMessage.encode(m.type(), m.flags(), m.sequence(), m.portId(), payload)));
    }

    private CaptureFixtures() {
    }
}
