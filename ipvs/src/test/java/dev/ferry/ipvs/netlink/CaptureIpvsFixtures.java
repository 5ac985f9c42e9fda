package dev.ferry.ipvs.netlink;

import dev.ferry.ipvs.uml.UmlGuest;
import dev.ferry.nativeio.GenericNetlink;
import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * Not a test: prints the raw generic netlink payloads (genlmsghdr + attributes) the real kernel sends for IPVS
 * dumps, to refresh the fixtures in {@link IpvsCodecTest}. Run on the host as root with the test classpath:
 * it boots a {@link UmlGuest}, programs a table with ipvsadm there ({@link #IPVSADM}), and runs itself inside the
 * guest with "--in-guest", which dumps services, each service's destinations and the timeouts through our own
 * socket. Each payload line is followed by "#   " and what the codec makes of it.
 */
public final class CaptureIpvsFixtures {

    static final List<List<String>> IPVSADM = List.of(
            List.of("ipvsadm", "-A", "-t", "10.96.0.10:80", "-s", "rr"),
            List.of("ipvsadm", "-a", "-t", "10.96.0.10:80", "-r", "10.244.1.5:8080", "-m", "-w", "3"),
            List.of("ipvsadm", "-A", "-u", "10.96.0.10:53", "-s", "wrr", "-p", "10800"),
            List.of("ipvsadm", "-A", "--sctp-service", "10.96.0.11:9000", "-s", "lc", "-p", "30", "-M", "255.255.255.0"),
            List.of("ipvsadm", "-A", "-t", "[fd00::10]:443", "-s", "sh", "-b", "sh-fallback,sh-port", "-p", "60",
                    "-M", "64"),
            List.of("ipvsadm", "-a", "-t", "[fd00::10]:443", "-r", "[fd00::1:5]:8443", "-m", "-w", "0"),
            List.of("ipvsadm", "-A", "-f", "7", "-s", "rr"),
            List.of("ipvsadm", "--set", "900", "120", "300"));

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--in-guest")) {
            dumpInGuest();
            return;
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<List<String>> commands = new java.util.ArrayList<>(IPVSADM);
        commands.add(List.of(java, "-cp", System.getProperty("java.class.path"), CaptureIpvsFixtures.class.getName(),
                "--in-guest"));
        commands.add(List.of("ipvsadm", "-Ln"));
        UmlGuest.Result r = UmlGuest.run(Duration.ofSeconds(120), commands);
        System.out.println(r.output());
        System.exit(r.exit());
    }

    private static void dumpInGuest() throws Exception {
        HexFormat hex = HexFormat.of();
        try (NetlinkSocket socket = NetlinkSocket.open(NetlinkSocket.NETLINK_GENERIC)) {
            int family = GenericNetlink.familyId(socket, IpvsClient.FAMILY);
            System.out.println("# services");
            List<VirtualServer> services = new java.util.ArrayList<>();
            socket.dump(family, IpvsCodec.command(IpvsCodec.CMD_GET_SERVICE), "dump services", m -> {
                System.out.println(hex.formatHex(bytes(m)));
                VirtualServer vs = IpvsCodec.decodeService(m.payload());
                System.out.println("#   " + vs);
                if (vs != null) {
                    services.add(vs);
                }
            });
            for (VirtualServer vs : services) {
                System.out.println("# destinations of " + vs.label());
                socket.dump(family, IpvsCodec.destDump(vs), "dump destinations", m -> {
                    System.out.println(hex.formatHex(bytes(m)));
                    System.out.println("#   " + IpvsCodec.decodeDest(m.payload(), vs.family()));
                });
            }
            System.out.println("# timeouts");
            for (NetlinkMessage m : socket.request(family, 0, IpvsCodec.command(IpvsCodec.CMD_GET_CONFIG), "timeouts")) {
                System.out.println(hex.formatHex(bytes(m)));
                System.out.println("#   " + IpvsCodec.decodeTimeouts(m.payload()));
            }
        }
    }

    private static byte[] bytes(NetlinkMessage m) {
        ByteBuffer p = m.payload();
        byte[] out = new byte[p.remaining()];
        p.duplicate().get(out);
        return out;
    }

    private CaptureIpvsFixtures() {
    }
}
