package dev.ferry.nftables;

import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkBatch;
import dev.ferry.nativeio.NetlinkException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transaction's bytes against nft's, and how the kernel's answers become a result. */
class BatchTest {

    /**
     * {@code nft --debug=mnl delete table ip kube-proxy} (nft 1.0.6, kernel 6.18), sequence numbers
     * 0, 1, 2 and port 0, as the datagram it sends: BEGIN (type 0x10, res_id 10), DELTABLE (type
     * 0x0a02, family 2, NFTA_TABLE_NAME "kube-proxy"), END (0x11). Header fields in host order
     * (little-endian here), nfgenmsg and attributes as shown.
     */
    private static final String NFT_DELETE_TABLE_IP_KUBE_PROXY =
            "14000000" + "1000" + "0100" + "00000000" + "00000000" + "0000000a"
            + "24000000" + "020a" + "0100" + "01000000" + "00000000" + "02000000"
            + "0f00" + "0100" + "6b7562652d70726f7879" + "0000"
            + "14000000" + "1100" + "0100" + "02000000" + "00000000" + "0000000a";

    @Test
    void deletingATableIsNftsMessageExceptThatWeAskForAnAcknowledgement() {
        Batch batch = new Batch();
        batch.add(NftNumbers.NFT_MSG_DELTABLE, new Table(TableFamily.IPV4, "kube-proxy").namePayload(),
                "delete table ip kube-proxy");
        String ours = HexFormat.of().formatHex(batch.end().encode(0, 0));
        // nft sends NLM_F_REQUEST (0x0001) only; we add NLM_F_ACK (0x0004) so success is confirmed too.
        String nfts = NFT_DELETE_TABLE_IP_KUBE_PROXY.replaceFirst("020a0100", "020a0500");
        org.junit.jupiter.api.Assumptions.assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN,
                "the capture was made on a little-endian machine");
        assertEquals(nfts, ours);
    }

    @Test
    void theIp6TableDiffersOnlyInTheFamilyByte() {
        byte[] v4 = new Table(TableFamily.IPV4, "kube-proxy").namePayload();
        byte[] v6 = new Table(TableFamily.IPV6, "kube-proxy").namePayload();
        assertEquals(10, v6[0]);
        v6[0] = 2;
        assertEquals(HexFormat.of().formatHex(v4), HexFormat.of().formatHex(v6));
    }

    @Test
    void allCommandsAcknowledgedIsACommit() {
        Batch batch = twoCommands();
        assertDoesNotThrow(() -> batch.check(List.of(ack(1), ack(2))));
    }

    @Test
    void aRefusedCommandIsNamedWithItsErrno() {
        Batch batch = twoCommands();
        NetlinkException e = assertThrows(NetlinkException.class, () -> batch.check(List.of(
                ack(1), new NetlinkBatch.Answer(2, Errno.ENOENT, null, 20), ack(2))));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("delete table ip6 kube-proxy: "), e.getMessage());
        assertTrue(e.getMessage().contains("ENOENT") && e.getMessage().contains("nothing of the transaction was applied"),
                e.getMessage());
    }

    @Test
    void aBatchRefusedAsAWholeNamesTheTransactionAndSaysWhy() {
        Batch batch = twoCommands();
        NetlinkException e = assertThrows(NetlinkException.class, () -> batch.check(List.of(
                new NetlinkBatch.Answer(0, Errno.EPERM, null, -1))));
        assertEquals(Errno.EPERM, e.errno());
        assertTrue(e.getMessage().startsWith("nf_tables transaction of 2 commands (delete table ip kube-proxy, ...): "),
                e.getMessage());
        assertTrue(e.getMessage().contains("CAP_NET_ADMIN"), e.getMessage());
    }

    @Test
    void severalRefusalsNameTheFirstAndCountTheRest() {
        Batch batch = twoCommands();
        NetlinkException e = assertThrows(NetlinkException.class, () -> batch.check(List.of(
                new NetlinkBatch.Answer(1, Errno.ENOENT, "no such table", 20),
                new NetlinkBatch.Answer(2, Errno.ENOENT, null, 20))));
        assertTrue(e.getMessage().startsWith("delete table ip kube-proxy: "), e.getMessage());
        assertTrue(e.getMessage().contains("no such table; 1 more refused"), e.getMessage());
    }

    @Test
    void theKernelsOffsetNamesTheExpressionItBlames() {
        Nftables nft = new Nftables(null);
        Chain c = Chain.regular(RuleShapes.T, "c");
        nft.addRule(Rule.of(c, Meta.load(Meta.Key.L4PROTO, Expression.REG_1), Immediate.verdict(Verdict.jump("missing"))));
        byte[] payload = nft.pending().commandPayloads().get(0).getValue();
        // nfgenmsg, TABLE "t" (8), CHAIN "c" (8), EXPRESSIONS header (4), then the meta element: its length first.
        int meta = 4 + 8 + 8 + 4;
        int immediate = meta + java.nio.ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder()).getShort(meta);
        NetlinkException e = assertThrows(NetlinkException.class, () -> nft.pending().check(List.of(
                new NetlinkBatch.Answer(1, Errno.ENOENT, null, 16 + immediate))));
        assertTrue(e.getMessage().startsWith("add rule in chain ip t c, at expression Immediate[destination=0, data=null, "
                + "verdict=jump missing] (2 of 2): "), e.getMessage());
        NetlinkException table = assertThrows(NetlinkException.class, () -> nft.pending().check(List.of(
                new NetlinkBatch.Answer(1, Errno.ENOENT, null, 16 + 4))));
        assertTrue(table.getMessage().startsWith("add rule in chain ip t c: "), "an attribute outside the list: "
                + table.getMessage());
    }

    @Test
    void aCommandWithoutAnswerMeansTheTransactionDidNotRunToItsEnd() {
        Batch batch = twoCommands();
        IOException e = assertThrows(IOException.class, () -> batch.check(List.of(ack(1))));
        assertFalse(e instanceof NetlinkException);
        assertTrue(e.getMessage().contains("did not confirm the last of 2 commands"), e.getMessage());
    }

    @Test
    void aSentBatchTakesNoMoreCommands() {
        Batch batch = twoCommands();
        int messages = batch.end().size();
        assertEquals(4, messages, "BEGIN, two commands, END");
        assertEquals(4, batch.end().size(), "END is added once");
        assertThrows(IllegalStateException.class, () -> batch.add(NftNumbers.NFT_MSG_DELTABLE, new byte[4], "x"));
    }

    private static Batch twoCommands() {
        Batch batch = new Batch();
        for (Table t : KubeProxyTables.ALL) {
            batch.add(NftNumbers.NFT_MSG_DELTABLE, t.namePayload(), "delete " + t);
        }
        return batch;
    }

    private static NetlinkBatch.Answer ack(int index) {
        return new NetlinkBatch.Answer(index, 0, null, -1);
    }
}
