package dev.ferry.nativeio;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The layout of a batch, and a real one answered by the kernel (rtnetlink; no root needed). */
class NetlinkBatchTest {

    @Test
    void messagesFollowEachOtherAtFourByteBoundariesWithConsecutiveSequenceNumbers() {
        NetlinkBatch batch = new NetlinkBatch();
        assertEquals(0, batch.add(0x10, NetlinkMessage.NLM_F_REQUEST, new byte[] {0, 0, 0, 10}));
        assertEquals(1, batch.add(0x0a02, NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK, new byte[] {1, 2, 3, 4, 5}));
        assertEquals(2, batch.size());
        assertEquals(20 + 24, batch.length(), "the 21-byte message is padded to 24");

        ByteBuffer b = ByteBuffer.wrap(batch.encode(7, 99)).order(ByteOrder.nativeOrder());
        assertEquals(44, b.limit());
        assertEquals(20, b.getInt(0));
        assertEquals(0x10, b.getShort(4));
        assertEquals(1, b.getShort(6));
        assertEquals(7, b.getInt(8));
        assertEquals(99, b.getInt(12));
        assertEquals(21, b.getInt(20), "nlmsg_len counts the payload unpadded");
        assertEquals(0x0a02, b.getShort(24));
        assertEquals(5, b.getShort(26));
        assertEquals(8, b.getInt(28));
        assertEquals(5, b.get(40));
        assertEquals(0, b.get(41), "padding is zero");
    }

    @Test
    void refusesOutOfRangeTypesAndFlags() {
        NetlinkBatch batch = new NetlinkBatch();
        assertThrows(IllegalArgumentException.class, () -> batch.add(0x10000, 0, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> batch.add(1, -1, new byte[0]));
        assertTrue(batch.isEmpty());
    }

    @Test
    void theKernelAnswersEveryMessageOfOneDatagramAndEachAnswerNamesItsMessage() throws IOException {
        // Two RTM_DELLINK (17) of interface indexes that do not exist, and one RTM_GETLINK (18) of the loopback
        // (index 1) asking for an acknowledgement: the kernel handles the three in the send.
        NetlinkBatch batch = new NetlinkBatch();
        int ack = NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK;
        batch.add(17, ack, ifinfomsg(0x7ffffff0));
        batch.add(18, ack, ifinfomsg(1));
        batch.add(17, ack, ifinfomsg(0x7ffffff1));
        try (NetlinkSocket s = NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE)) {
            List<NetlinkBatch.Answer> answers = s.send(batch, "two deletes and a get");
            assertEquals(List.of(0, 1, 2), answers.stream().map(NetlinkBatch.Answer::index).toList(), answers.toString());
            assertFalse(answers.get(0).ok());
            assertTrue(answers.get(0).errno() == Errno.ENODEV || answers.get(0).errno() == Errno.EPERM, answers.toString());
            assertTrue(answers.get(1).ok(), "the loopback exists: " + answers);
            assertFalse(answers.get(2).ok());
            // The socket stays in step: the GETLINK's own reply was skipped, and a request works after.
            assertEquals(List.of(), s.send(new NetlinkBatch(), "nothing"));
            s.dump(18, new byte[16], "dump links", m -> { });
        }
    }

    private static byte[] ifinfomsg(int index) {
        byte[] m = new byte[16];
        ByteBuffer.wrap(m).order(ByteOrder.nativeOrder()).putInt(4, index);
        return m;
    }
}
