package dev.ferry.ipvs.netlink;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.nativeio.NetlinkAttribute;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The IPVS codec against payloads the real kernel sent ({@link IpvsFixtures}) and against itself. */
class IpvsCodecTest {

    private static final VirtualServer TCP_RR = VirtualServer.of(Protocol.TCP, ip("10.96.0.10"), 80, "rr");
    private static final VirtualServer UDP_WRR = VirtualServer.of(Protocol.UDP, ip("10.96.0.10"), 53, "wrr")
            .withPersistence(10800);
    private static final VirtualServer TCP6_SH = new VirtualServer(IpFamily.IPV6, Protocol.TCP, ip("fd00::10"), 443,
            "sh", VirtualServer.FLAG_SH_FALLBACK | VirtualServer.FLAG_SH_PORT, 60, 64);
    private static final VirtualServer SCTP_LC = new VirtualServer(IpFamily.IPV4, Protocol.SCTP, ip("10.96.0.11"),
            9000, "lc", 0, 30, 24);

    @BeforeAll
    static void fixturesAreLittleEndian() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "fixtures were captured on x86-64");
    }

    @Test
    void decodesTheServicesTheKernelListed() {
        assertEquals(TCP_RR, IpvsCodec.decodeService(payload(IpvsFixtures.TCP_RR)));
        assertEquals(UDP_WRR, IpvsCodec.decodeService(payload(IpvsFixtures.UDP_WRR_PERSISTENT)));
        assertEquals(TCP6_SH, IpvsCodec.decodeService(payload(IpvsFixtures.TCP6_SH_FLAGS)));
        assertEquals(SCTP_LC, IpvsCodec.decodeService(payload(IpvsFixtures.SCTP_LC_MASK24)));
    }

    @Test
    void aFirewallMarkServiceIsNotOurs() {
        assertNull(IpvsCodec.decodeService(payload(IpvsFixtures.FWMARK_7)));
    }

    @Test
    void decodesTheRealServersTheKernelListed() {
        assertEquals(RealServer.of(ip("10.244.1.5"), 8080, 3),
                IpvsCodec.decodeDest(payload(IpvsFixtures.DEST_MASQ_W3), IpFamily.IPV4));
        assertEquals(RealServer.of(ip("fd00::1:5"), 8443, 0),
                IpvsCodec.decodeDest(payload(IpvsFixtures.DEST6_MASQ_W0), IpFamily.IPV6));
    }

    @Test
    void decodesTheTimeouts() {
        assertEquals(IpvsTimeouts.ofSeconds(900, 120, 300),
                IpvsCodec.decodeTimeouts(payload(IpvsFixtures.TIMEOUTS_900_120_300)));
    }

    /** What we send for a new service carries, attribute by attribute, the bytes the kernel lists for it. */
    @Test
    void ourServiceAttributesAreTheKernelsBytes() {
        compareService(TCP_RR, IpvsFixtures.TCP_RR);
        compareService(UDP_WRR, IpvsFixtures.UDP_WRR_PERSISTENT);
        compareService(TCP6_SH, IpvsFixtures.TCP6_SH_FLAGS);
        compareService(SCTP_LC, IpvsFixtures.SCTP_LC_MASK24);
    }

    private static void compareService(VirtualServer vs, String kernelHex) {
        List<NetlinkAttribute> ours = nested(IpvsCodec.service(IpvsCodec.CMD_NEW_SERVICE, vs, true),
                IpvsCodec.CMD_ATTR_SERVICE);
        List<NetlinkAttribute> kernel = nested(HexFormat.of().parseHex(kernelHex), IpvsCodec.CMD_ATTR_SERVICE);
        assertEquals(List.of(IpvsCodec.SVC_ATTR_AF, IpvsCodec.SVC_ATTR_PROTOCOL, IpvsCodec.SVC_ATTR_ADDR,
                IpvsCodec.SVC_ATTR_PORT, IpvsCodec.SVC_ATTR_SCHED_NAME, IpvsCodec.SVC_ATTR_FLAGS,
                IpvsCodec.SVC_ATTR_TIMEOUT, IpvsCodec.SVC_ATTR_NETMASK),
                ours.stream().map(NetlinkAttribute::type).toList());
        for (NetlinkAttribute a : ours) {
            byte[] theirs = NetlinkAttribute.find(kernel, a.type()).orElseThrow().bytes();
            if (a.type() == IpvsCodec.SVC_ATTR_FLAGS) {
                // the kernel adds its "hashed" bookkeeping bit to what it lists
                theirs[0] &= ~VirtualServer.FLAG_HASHED;
            }
            assertArrayEquals(theirs, a.bytes(), vs.label() + " attribute " + a.type());
        }
    }

    /** Likewise for a real server: address, port, method, weight, thresholds and family as the kernel lists them. */
    @Test
    void ourRealServerAttributesAreTheKernelsBytes() {
        compareDest(TCP_RR, RealServer.of(ip("10.244.1.5"), 8080, 3), IpvsFixtures.DEST_MASQ_W3);
        compareDest(TCP6_SH, RealServer.of(ip("fd00::1:5"), 8443, 0), IpvsFixtures.DEST6_MASQ_W0);
    }

    private static void compareDest(VirtualServer vs, RealServer rs, String kernelHex) {
        byte[] request = IpvsCodec.dest(IpvsCodec.CMD_NEW_DEST, vs, rs, true);
        List<NetlinkAttribute> ours = nested(request, IpvsCodec.CMD_ATTR_DEST);
        List<NetlinkAttribute> kernel = nested(HexFormat.of().parseHex(kernelHex), IpvsCodec.CMD_ATTR_DEST);
        assertEquals(7, ours.size());
        for (NetlinkAttribute a : ours) {
            assertArrayEquals(NetlinkAttribute.find(kernel, a.type()).orElseThrow().bytes(), a.bytes(),
                    rs.label() + " attribute " + a.type());
        }
        // the service in a destination command is only its identity
        assertEquals(4, nested(request, IpvsCodec.CMD_ATTR_SERVICE).size());
    }

    @Test
    void aServiceRequestByteForByte() {
        byte[] delete = IpvsCodec.service(IpvsCodec.CMD_DEL_SERVICE, TCP_RR, false);
        assertEquals("03010000" // genlmsghdr: IPVS_CMD_DEL_SERVICE, version 1
                + "30000180" // IPVS_CMD_ATTR_SERVICE, nested, 48 bytes
                + "0600" + "0100" + "0200" + "0000" // AF_INET
                + "0600" + "0200" + "0600" + "0000" // IPPROTO_TCP
                + "1400" + "0300" + "0a60000a" + "000000000000000000000000" // 10.96.0.10 in nf_inet_addr
                + "0600" + "0400" + "0050" + "0000", // port 80 big-endian
                HexFormat.of().formatHex(delete));
    }

    @Test
    void timeoutsAndFlushRequests() {
        assertEquals("0c010000" + "08000400" + "84030000" + "08000500" + "78000000" + "08000600" + "2c010000",
                HexFormat.of().formatHex(IpvsCodec.setTimeouts(IpvsTimeouts.ofSeconds(900, 120, 300))));
        assertEquals("11010000", HexFormat.of().formatHex(IpvsCodec.command(IpvsCodec.CMD_FLUSH)));
    }

    @Test
    void servicesRoundTrip() {
        for (VirtualServer vs : List.of(TCP_RR, UDP_WRR, TCP6_SH, SCTP_LC,
                new VirtualServer(IpFamily.IPV4, Protocol.UDP, ip("192.168.7.1"), 65535, "mh", VirtualServer.FLAG_ONE_PACKET, 0, 0),
                new VirtualServer(IpFamily.IPV6, Protocol.SCTP, ip("2001:db8::1"), 1, "nq", 0, 86400, 1))) {
            assertEquals(vs, IpvsCodec.decodeService(ByteBuffer.wrap(IpvsCodec.service(IpvsCodec.CMD_NEW_SERVICE, vs, true))));
        }
    }

    @Test
    void realServersRoundTrip() {
        for (RealServer rs : List.of(RealServer.of(ip("10.0.0.1"), 1, 0), RealServer.of(ip("fd00::2"), 65535,
                Integer.MAX_VALUE))) {
            VirtualServer vs = VirtualServer.of(Protocol.TCP, IpFamily.of(rs.address()) == IpFamily.IPV4
                    ? ip("10.96.0.1") : ip("fd00::1"), 80, "rr");
            byte[] request = IpvsCodec.dest(IpvsCodec.CMD_NEW_DEST, vs, rs, true);
            assertEquals(rs, IpvsCodec.decodeDest(ByteBuffer.wrap(request), vs.family()));
        }
    }

    @Test
    void netmasksAsTheKernelCopiesThem() {
        assertEquals("ffffff00", HexFormat.of().formatHex(IpvsCodec.netmask(IpFamily.IPV4, 24)));
        assertEquals("00000000", HexFormat.of().formatHex(IpvsCodec.netmask(IpFamily.IPV4, 0)));
        assertEquals("40000000", HexFormat.of().formatHex(IpvsCodec.netmask(IpFamily.IPV6, 64)));
    }

    @Test
    void aMalformedAnswerSaysWhatIsMissing() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IpvsCodec.decodeService(ByteBuffer.wrap(IpvsCodec.command(IpvsCodec.CMD_NEW_SERVICE))));
        assertTrue(e.getMessage().contains("IPVS_CMD_ATTR_SERVICE"), e.getMessage());
        byte[] truncated = HexFormat.of().parseHex(IpvsFixtures.TCP_RR.substring(0, 60));
        assertThrows(IllegalArgumentException.class, () -> IpvsCodec.decodeService(ByteBuffer.wrap(truncated)));
    }

    @Test
    void badValuesAreRefusedBeforeAnythingIsSent() {
        InetAddress v4 = ip("10.96.0.10");
        assertThrows(IllegalArgumentException.class,
                () -> new VirtualServer(IpFamily.IPV6, Protocol.TCP, v4, 80, "rr", 0, 0, 32));
        assertThrows(IllegalArgumentException.class, () -> VirtualServer.of(Protocol.TCP, v4, 0, "rr"));
        assertThrows(IllegalArgumentException.class, () -> VirtualServer.of(Protocol.TCP, v4, 65536, "rr"));
        assertThrows(IllegalArgumentException.class, () -> VirtualServer.of(Protocol.TCP, v4, 80, ""));
        assertThrows(IllegalArgumentException.class, () -> VirtualServer.of(Protocol.TCP, v4, 80, "a".repeat(16)));
        VirtualServer.of(Protocol.TCP, v4, 80, "a".repeat(15));
        IllegalArgumentException flags = assertThrows(IllegalArgumentException.class,
                () -> new VirtualServer(IpFamily.IPV4, Protocol.TCP, v4, 80, "rr", VirtualServer.FLAG_PERSISTENT, 60, 32));
        assertTrue(flags.getMessage().contains("TCP 10.96.0.10:80"), flags.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TCP_RR.withPersistence(-1));
        assertThrows(IllegalArgumentException.class,
                () -> new VirtualServer(IpFamily.IPV4, Protocol.TCP, v4, 80, "rr", 0, 0, 33));
        assertThrows(IllegalArgumentException.class,
                () -> new VirtualServer(IpFamily.IPV6, Protocol.TCP, ip("fd00::1"), 80, "rr", 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RealServer.of(v4, 80, -1));
        assertThrows(IllegalArgumentException.class, () -> RealServer.of(v4, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new IpvsTimeouts(Duration.ofMillis(1500),
                Duration.ZERO, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> IpvsTimeouts.ofSeconds(-1, 0, 0));
    }

    private static List<NetlinkAttribute> nested(byte[] payload, int type) {
        return NetlinkAttribute.find(IpvsCodec.attributes(ByteBuffer.wrap(payload)), type).orElseThrow().nested();
    }

    private static ByteBuffer payload(String hex) {
        return ByteBuffer.wrap(HexFormat.of().parseHex(hex));
    }

    static InetAddress ip(String text) {
        return IpAddresses.parse(text);
    }
}
