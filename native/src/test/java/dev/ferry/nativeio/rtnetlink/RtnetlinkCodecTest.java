package dev.ferry.nativeio.rtnetlink;

import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;

import static dev.ferry.nativeio.rtnetlink.RtnetlinkFixtures.bytes;
import static dev.ferry.nativeio.rtnetlink.RtnetlinkFixtures.message;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests byte for byte against iproute2's, answers against the kernel's (see RtnetlinkFixtures for provenance). */
class RtnetlinkCodecTest {

    @Test
    void createsADummyLinkExactlyAsIproute2Does() {
        assertArrayEquals(bytes(RtnetlinkFixtures.IPROUTE2_NEWLINK_DUMMY), RtnetlinkCodec.newDummyRequest("kube-ipvs0"));
    }

    @Test
    void addsAndDeletesHostAddressesExactlyAsIproute2Does() throws Exception {
        assertArrayEquals(bytes(RtnetlinkFixtures.IPROUTE2_ADDR_IPV4),
                RtnetlinkCodec.addressRequest(2, ip("10.96.0.10"), 32));
        assertArrayEquals(bytes(RtnetlinkFixtures.IPROUTE2_ADDR_IPV6),
                RtnetlinkCodec.addressRequest(2, ip("fd00:96::10"), 128));
        assertEquals(32, RtnetlinkCodec.hostPrefix(ip("10.96.0.10")));
        assertEquals(128, RtnetlinkCodec.hostPrefix(ip("fd00:96::10")));
    }

    @Test
    void deletesALinkByIndexExactlyAsIproute2Does() {
        assertArrayEquals(bytes(RtnetlinkFixtures.IPROUTE2_DELLINK), RtnetlinkCodec.deleteLinkRequest(2));
    }

    @Test
    void looksALinkUpByNameLikeIproute2ButWithoutStatistics() {
        List<NetlinkAttribute> ours = attributes(RtnetlinkCodec.getLinkRequest("kube-ipvs0"), RtnetlinkCodec.IFINFOMSG_LENGTH);
        byte[] theirs = bytes(RtnetlinkFixtures.IPROUTE2_GETLINK);
        List<NetlinkAttribute> iproute2 = attributes(theirs, RtnetlinkCodec.IFINFOMSG_LENGTH);

        assertArrayEquals(slice(theirs, RtnetlinkCodec.IFINFOMSG_LENGTH),
                slice(RtnetlinkCodec.getLinkRequest("kube-ipvs0"), RtnetlinkCodec.IFINFOMSG_LENGTH));
        assertArrayEquals(find(iproute2, RtnetlinkCodec.IFLA_IFNAME).bytes(), find(ours, RtnetlinkCodec.IFLA_IFNAME).bytes());
        assertEquals(RtnetlinkCodec.RTEXT_FILTER_SKIP_STATS, find(ours, RtnetlinkCodec.IFLA_EXT_MASK).u32());
        assertEquals(2, ours.size());
    }

    @Test
    void decodesTheKernelsDescriptionOfADummyLink() {
        NetlinkMessage m = message(RtnetlinkFixtures.KUBE_IPVS0_LINK);
        assertEquals(RtnetlinkCodec.RTM_NEWLINK, m.type());
        assertEquals(new Link(2, "kube-ipvs0", "dummy", false), RtnetlinkCodec.decodeLink(m));
    }

    @Test
    void decodesALinkWithoutAKind() {
        assertEquals(new Link(1, "lo", "", true), RtnetlinkCodec.decodeLink(message(RtnetlinkFixtures.LO_LINK)));
    }

    @Test
    void theKernelDumpsIfLinkInfoWithoutTheNestedFlagAsWeSendIt() {
        NetlinkMessage m = message(RtnetlinkFixtures.KUBE_IPVS0_LINK);
        NetlinkAttribute kernel = find(NetlinkAttribute.parse(m.payload().position(RtnetlinkCodec.IFINFOMSG_LENGTH)),
                RtnetlinkCodec.IFLA_LINKINFO);
        NetlinkAttribute ours = find(attributes(RtnetlinkCodec.newDummyRequest("kube-ipvs0"),
                RtnetlinkCodec.IFINFOMSG_LENGTH), RtnetlinkCodec.IFLA_LINKINFO);
        assertEquals(kernel.rawType(), ours.rawType());
        assertEquals(find(kernel.nested(), RtnetlinkCodec.IFLA_INFO_KIND).string(),
                find(ours.nested(), RtnetlinkCodec.IFLA_INFO_KIND).string());
    }

    @Test
    void decodesTheKernelsIpv4AndIpv6Addresses() throws Exception {
        assertEquals(new LinkAddress(2, ip("10.96.0.10"), 32),
                RtnetlinkCodec.decodeAddress(message(RtnetlinkFixtures.KUBE_IPVS0_IPV4_ADDRESS)));
        assertEquals(new LinkAddress(2, ip("fd00:96::10"), 128),
                RtnetlinkCodec.decodeAddress(message(RtnetlinkFixtures.KUBE_IPVS0_IPV6_ADDRESS)));
    }

    @Test
    void ourAddressRequestCarriesTheAddressAsTheKernelDumpsIt() throws Exception {
        for (String fixture : List.of(RtnetlinkFixtures.KUBE_IPVS0_IPV4_ADDRESS, RtnetlinkFixtures.KUBE_IPVS0_IPV6_ADDRESS)) {
            NetlinkMessage kernel = message(fixture);
            LinkAddress a = RtnetlinkCodec.decodeAddress(kernel);
            byte[] request = RtnetlinkCodec.addressRequest(a.index(), a.address(), a.prefixLength());
            ByteBuffer header = kernel.payload();
            // family, prefix length and index as the kernel reports them; flags and scope are ours to leave 0
            assertEquals(header.get(0), request[0]);
            assertEquals(header.get(1), request[1]);
            assertEquals(header.getInt(4), ByteBuffer.wrap(request).order(header.order()).getInt(4));
            List<NetlinkAttribute> kernelAttrs = NetlinkAttribute.parse(kernel.payload().position(RtnetlinkCodec.IFADDRMSG_LENGTH));
            List<NetlinkAttribute> ours = attributes(request, RtnetlinkCodec.IFADDRMSG_LENGTH);
            assertArrayEquals(find(kernelAttrs, RtnetlinkCodec.IFA_ADDRESS).bytes(), find(ours, RtnetlinkCodec.IFA_ADDRESS).bytes());
            assertArrayEquals(find(kernelAttrs, RtnetlinkCodec.IFA_ADDRESS).bytes(), find(ours, RtnetlinkCodec.IFA_LOCAL).bytes());
        }
    }

    @Test
    void aDumpRequestAsksForEveryFamily() {
        assertArrayEquals(new byte[8], RtnetlinkCodec.addressDumpRequest());
    }

    @Test
    void otherMessagesAreNeitherLinksNorAddresses() {
        NetlinkMessage done = new NetlinkMessage(NetlinkMessage.NLMSG_DONE, 2, 1, 0, ByteBuffer.allocate(4));
        assertNull(RtnetlinkCodec.decodeLink(done));
        assertNull(RtnetlinkCodec.decodeAddress(done));
    }

    @Test
    void truncatedAnswersAreRejectedByName() {
        NetlinkMessage shortLink = new NetlinkMessage(RtnetlinkCodec.RTM_NEWLINK, 0, 1, 0, ByteBuffer.allocate(8));
        assertEquals("link message of 8 bytes has no ifinfomsg",
                assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.decodeLink(shortLink)).getMessage());
        byte[] noAddress = {2, 32, 0, 0, 2, 0, 0, 0};
        NetlinkMessage bare = new NetlinkMessage(RtnetlinkCodec.RTM_NEWADDR, 0, 1, 0, ByteBuffer.wrap(noAddress));
        assertEquals("address on link 2 without IFA_LOCAL and IFA_ADDRESS",
                assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.decodeAddress(bare)).getMessage());
    }

    @Test
    void linkNamesAreCheckedBeforeTheyReachTheKernel() {
        assertEquals("kube-ipvs0", RtnetlinkCodec.checkName("kube-ipvs0"));
        assertEquals("a23456789012345", RtnetlinkCodec.checkName("a23456789012345"));
        for (String bad : new String[] {"", "a234567890123456", "a/b", "a b", "a\tb", "a:b", ".", "..", "kübe", "a\0b"}) {
            assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.newDummyRequest(bad), bad);
            assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.getLinkRequest(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.checkName(null));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.checkName("a234567890123456"))
                .getMessage().contains("IFNAMSIZ"));
    }

    @Test
    void requestsRefuseImpossibleIndexesAndPrefixes() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.deleteLinkRequest(0));
        assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.addressRequest(-1, ip("10.0.0.1"), 32));
        assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.addressRequest(2, ip("10.0.0.1"), 33));
        assertThrows(IllegalArgumentException.class, () -> RtnetlinkCodec.addressRequest(2, ip("fd00::1"), 129));
    }

    private static List<NetlinkAttribute> attributes(byte[] payload, int headerLength) {
        return NetlinkAttribute.parse(ByteBuffer.wrap(payload).position(headerLength));
    }

    private static NetlinkAttribute find(List<NetlinkAttribute> attrs, int type) {
        return NetlinkAttribute.find(attrs, type).orElseThrow(() -> new AssertionError("no attribute " + type));
    }

    private static byte[] slice(byte[] b, int length) {
        byte[] out = new byte[length];
        System.arraycopy(b, 0, out, 0, length);
        return out;
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }
}
