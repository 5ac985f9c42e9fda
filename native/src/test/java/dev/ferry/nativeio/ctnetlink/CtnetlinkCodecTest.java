package dev.ferry.nativeio.ctnetlink;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Codecs against messages captured from the real kernel (src/test/resources, see CaptureFixtures). */
class CtnetlinkCodecTest {

    @Test
    void decodesADnatedIpv4UdpFlow() throws IOException {
        ConntrackFlow flow = flows("dump-ipv4.hex").get(0);

        assertEquals(AddressFamily.INET, flow.family());
        assertEquals(new ConntrackTuple(ip("10.77.0.1"), ip("10.96.0.10"), 17, 40001, 53), flow.original());
        assertEquals(new ConntrackTuple(ip("10.77.0.2"), ip("10.77.0.1"), 17, 5353, 40001), flow.reply());
        assertEquals(0, flow.status() & ConntrackFlow.IPS_SEEN_REPLY, "unreplied");
        assertTrue((flow.status() & ConntrackFlow.IPS_DST_NAT) != 0, "destination NAT");
        assertEquals(654439437L, flow.id());
        assertEquals(0, flow.zone());
        assertEquals(29, flow.timeout());
        assertEquals("udp 17 src=10.77.0.1 dst=10.96.0.10 sport=40001 dport=53 [UNREPLIED] "
                + "src=10.77.0.2 dst=10.77.0.1 sport=5353 dport=40001 id=654439437", flow.toString());
    }

    @Test
    void decodesAPlainIpv4UdpFlow() throws IOException {
        ConntrackFlow flow = flows("dump-ipv4.hex").get(1);
        assertEquals(new ConntrackTuple(ip("10.77.0.1"), ip("10.77.0.2"), 17, 40002, 7777), flow.original());
        assertEquals(new ConntrackTuple(ip("10.77.0.2"), ip("10.77.0.1"), 17, 7777, 40002), flow.reply());
        assertEquals(0, flow.status() & ConntrackFlow.IPS_DST_NAT);
    }

    @Test
    void decodesAnIpv6Flow() throws IOException {
        ConntrackFlow flow = flows("dump-ipv6.hex").get(0);
        assertEquals(AddressFamily.INET6, flow.family());
        assertEquals(new ConntrackTuple(ip("fd77::1"), ip("fd96::10"), 17, 40003, 53), flow.original());
        assertEquals(new ConntrackTuple(ip("fd77::2"), ip("fd77::1"), 17, 5353, 40003), flow.reply());
        assertEquals(2016988572L, flow.id());
    }

    @Test
    void deleteRequestCarriesTheTupleExactlyAsTheKernelWritesIt() throws IOException {
        for (String fixture : List.of("dump-ipv4.hex", "dump-ipv6.hex")) {
            NetlinkMessage captured = messages(fixture).get(0);
            ConntrackFlow flow = CtnetlinkCodec.decodeFlow(captured);

            byte[] request = CtnetlinkCodec.deleteRequest(flow);

            assertArrayEquals(CtnetlinkCodec.nfgenmsg(flow.family()), slice(request, 0, 4));
            List<NetlinkAttribute> sent = NetlinkAttribute.parse(ByteBuffer.wrap(request).position(4));
            List<NetlinkAttribute> kernel = NetlinkAttribute.parse(captured.payload().position(4));
            NetlinkAttribute kernelTuple = NetlinkAttribute.find(kernel, CtnetlinkCodec.CTA_TUPLE_ORIG).orElseThrow();
            NetlinkAttribute sentTuple = NetlinkAttribute.find(sent, CtnetlinkCodec.CTA_TUPLE_ORIG).orElseThrow();
            assertEquals(kernelTuple.rawType(), sentTuple.rawType(), fixture);
            assertArrayEquals(kernelTuple.bytes(), sentTuple.bytes(), fixture);
            assertEquals(flow.id(), NetlinkAttribute.find(sent, CtnetlinkCodec.CTA_ID).orElseThrow().be32());
            assertTrue(NetlinkAttribute.find(sent, CtnetlinkCodec.CTA_ZONE).isEmpty(), "zone 0 is left out");
        }
    }

    @Test
    void deleteRequestNamesANonDefaultZone() throws IOException {
        ConntrackFlow f = flows("dump-ipv4.hex").get(0);
        ConntrackFlow zoned = new ConntrackFlow(f.family(), f.original(), f.reply(), -1, 7, 0, 0, 0);
        List<NetlinkAttribute> sent = NetlinkAttribute.parse(ByteBuffer.wrap(CtnetlinkCodec.deleteRequest(zoned)).position(4));
        assertEquals(7, NetlinkAttribute.find(sent, CtnetlinkCodec.CTA_ZONE).orElseThrow().be16());
        assertTrue(NetlinkAttribute.find(sent, CtnetlinkCodec.CTA_ID).isEmpty(), "no id when unknown");
    }

    @Test
    void dumpRequestIsJustTheFamily() {
        assertArrayEquals(new byte[] {2, 0, 0, 0}, CtnetlinkCodec.dumpRequest(AddressFamily.INET));
        assertArrayEquals(new byte[] {10, 0, 0, 0}, CtnetlinkCodec.dumpRequest(AddressFamily.INET6));
        assertEquals(0x101, CtnetlinkCodec.type(CtnetlinkCodec.IPCTNL_MSG_CT_GET));
        assertEquals(0x102, CtnetlinkCodec.type(CtnetlinkCodec.IPCTNL_MSG_CT_DELETE));
    }

    @Test
    void aFlowWithoutItsReplyTupleIsRejectedByName() throws IOException {
        NetlinkMessage m = messages("dump-ipv4.hex").get(0);
        List<NetlinkAttribute> attrs = NetlinkAttribute.parse(m.payload().position(4));
        NetlinkAttribute orig = NetlinkAttribute.find(attrs, CtnetlinkCodec.CTA_TUPLE_ORIG).orElseThrow();
        byte[] payload = new dev.ferry.nativeio.AttributeWriter().header(new byte[] {2, 0, 0, 0})
                .put(orig.rawType(), orig.bytes()).toByteArray();
        NetlinkMessage broken = new NetlinkMessage(m.type(), m.flags(), 1, 0, ByteBuffer.wrap(payload));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CtnetlinkCodec.decodeFlow(broken));
        assertEquals("conntrack flow without CTA_TUPLE_REPLY", e.getMessage());
    }

    @Test
    void otherMessageTypesAreNotFlows() {
        assertNull(CtnetlinkCodec.decodeFlow(new NetlinkMessage(3, 2, 1, 0, ByteBuffer.allocate(4))));
    }

    @Test
    void icmpFlowsCannotBeAddressedForDeletion() throws IOException {
        ConntrackTuple icmp = new ConntrackTuple(ip("10.0.0.1"), ip("10.0.0.2"), 1, 0, 0);
        ConntrackFlow flow = new ConntrackFlow(AddressFamily.INET, icmp, icmp, -1, 0, 0, 0, 0);
        assertThrows(IllegalArgumentException.class, () -> CtnetlinkCodec.deleteRequest(flow));
    }

    static List<ConntrackFlow> flows(String fixture) throws IOException {
        return messages(fixture).stream().map(CtnetlinkCodec::decodeFlow).collect(Collectors.toList());
    }

    static List<NetlinkMessage> messages(String fixture) throws IOException {
        try (InputStream in = CtnetlinkCodecTest.class.getResourceAsStream(fixture)) {
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return text.lines().filter(l -> !l.isBlank() && !l.startsWith("#"))
                    .map(l -> HexFormat.of().parseHex(l.trim()))
                    .map(b -> NetlinkMessage.decode(b, b.length).get(0))
                    .collect(Collectors.toList());
        }
    }

    private static byte[] slice(byte[] b, int from, int to) {
        byte[] out = new byte[to - from];
        System.arraycopy(b, from, out, 0, out.length);
        return out;
    }

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }
}
