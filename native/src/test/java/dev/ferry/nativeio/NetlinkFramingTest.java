package dev.ferry.nativeio;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetlinkFramingTest {

    @Test
    void headerIsLengthTypeFlagsSequencePortInHostOrder() {
        byte[] m = NetlinkMessage.encode(0x0102, 0x0005, 7, 99, new byte[] {2, 0, 0, 0});
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.nativeOrder());
        assertEquals(20, m.length);
        assertEquals(20, b.getInt(0));
        assertEquals(0x0102, b.getShort(4));
        assertEquals(0x0005, b.getShort(6));
        assertEquals(7, b.getInt(8));
        assertEquals(99, b.getInt(12));
        assertEquals(2, m[16]);
    }

    @Test
    void decodeSplitsADatagramAtFourByteBoundaries() {
        byte[] first = NetlinkMessage.encode(16, 2, 1, 0, new byte[] {1, 2, 3}); // 19 bytes, padded to 20
        byte[] second = NetlinkMessage.encode(NetlinkMessage.NLMSG_DONE, 2, 1, 0, new byte[] {0, 0, 0, 0});
        byte[] datagram = new byte[20 + second.length];
        System.arraycopy(first, 0, datagram, 0, first.length);
        System.arraycopy(second, 0, datagram, 20, second.length);

        List<NetlinkMessage> messages = NetlinkMessage.decode(datagram, datagram.length);

        assertEquals(2, messages.size());
        assertEquals(3, messages.get(0).payload().remaining());
        assertEquals(3, messages.get(0).payload().get(2));
        assertEquals(NetlinkMessage.NLMSG_DONE, messages.get(1).type());
    }

    @Test
    void decodeRejectsALengthPastTheDatagram() {
        byte[] m = NetlinkMessage.encode(16, 0, 1, 0, new byte[8]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NetlinkMessage.decode(m, 20));
        assertTrue(e.getMessage().contains("claims length 24"), e.getMessage());
    }

    @Test
    void writerPadsAttributesAndFillsInNestedLengths() {
        byte[] payload = new AttributeWriter()
                .header(new byte[] {2, 0, 0, 0})
                .beginNested(1)
                .putU8(1, 17)
                .putBe16(2, 53)
                .endNested()
                .putString(3, "ab")
                .toByteArray();
        // header 4 + nested(4 + u8 attr 8 + be16 attr 8) + string attr 8
        assertEquals(4 + 20 + 8, payload.length);
        List<NetlinkAttribute> attrs = NetlinkAttribute.parse(ByteBuffer.wrap(payload).position(4));
        assertEquals(2, attrs.size());
        NetlinkAttribute nested = attrs.get(0);
        assertEquals(1, nested.type());
        assertEquals(1 | NetlinkAttribute.NLA_F_NESTED, nested.rawType());
        assertEquals(16, nested.length());
        assertEquals(17, nested.nested().get(0).u8());
        assertEquals(53, nested.nested().get(1).be16());
        assertArrayEquals(new byte[] {0, 53}, nested.nested().get(1).bytes());
        assertEquals("ab", attrs.get(1).string());
    }

    @Test
    void aNestedAttributeLongerThanItsLengthFieldIsRefusedNotCut() {
        AttributeWriter w = new AttributeWriter().beginNested(1);
        for (int i = 0; i < 700; i++) {
            w.put(2, new byte[96]); // 100 bytes each: 70,000 in all
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, w::endNested);
        assertTrue(e.getMessage().contains("70004 bytes"), e.getMessage());
    }

    @Test
    void parseRejectsAnAttributeRunningPastItsParent() {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        b.putShort((short) 12).putShort((short) 5).putInt(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NetlinkAttribute.parse(b.flip()));
        assertTrue(e.getMessage().startsWith("attribute 5"), e.getMessage());
    }

    @Test
    void accessorsNameTheAttributeWhenTooShort() {
        byte[] payload = new AttributeWriter().putU8(9, 1).toByteArray();
        NetlinkAttribute a = NetlinkAttribute.parse(ByteBuffer.wrap(payload)).get(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, a::be32);
        assertEquals("attribute 9 has 1 bytes, needs 4", e.getMessage());
    }

    @Test
    void extendedAckTextIsFoundAfterTheCappedEcho() {
        // NLMSG_ERROR payload: error, echoed request header (capped), then NLMSGERR_ATTR_MSG.
        byte[] echoed = NetlinkMessage.encode(0x102, 5, 3, 0, new byte[0]);
        byte[] tlvs = new AttributeWriter().putString(1, "missing tuple").toByteArray();
        ByteBuffer p = ByteBuffer.allocate(4 + echoed.length + tlvs.length).order(ByteOrder.nativeOrder());
        p.putInt(-22).put(echoed).put(tlvs).flip();
        NetlinkMessage error = new NetlinkMessage(NetlinkMessage.NLMSG_ERROR,
                NetlinkMessage.NLM_F_CAPPED | NetlinkMessage.NLM_F_ACK_TLVS, 3, 0, p);
        assertEquals("missing tuple", NetlinkSocket.extendedAckMessage(error));
    }

    @Test
    void exceptionNamesRequestAndErrno() {
        NetlinkException e = new NetlinkException("delete conntrack flow x", Errno.ENOENT, null);
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("delete conntrack flow x: "), e.getMessage());
        assertTrue(e.getMessage().contains("ENOENT, errno 2"), e.getMessage());
    }
}
