package dev.ferry.nftables;

import dev.ferry.nativeio.AttributeWriter;
import dev.ferry.nativeio.NetlinkMessage;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TableTest {

    @Test
    void namedAsNftNamesIt() {
        assertEquals("table ip kube-proxy", KubeProxyTables.ALL.get(0).toString());
        assertEquals("table ip6 kube-proxy", KubeProxyTables.ALL.get(1).toString());
    }

    @Test
    void namesTheKernelRefusesAreRefusedHere() {
        assertThrows(IllegalArgumentException.class, () -> new Table(TableFamily.IPV4, ""));
        assertThrows(IllegalArgumentException.class, () -> new Table(TableFamily.IPV4, "a\0b"));
        new Table(TableFamily.IPV4, "x".repeat(255));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Table(TableFamily.IPV4, "x".repeat(256)));
        assertTrue(e.getMessage().contains("256"), e.getMessage());
    }

    @Test
    void decodesTheKernelsDescriptionOfATable() {
        // NEWTABLE as the kernel dumps it: nfgenmsg (family 10, version 0, res_id = generation), name, flags, use, handle.
        byte[] payload = new AttributeWriter().header(new byte[] {10, 0, 0, 7})
                .putString(NftNumbers.NFTA_TABLE_NAME, "kube-proxy").putBe32(2, 0).putBe32(3, 5)
                .put(4, new byte[] {0, 0, 0, 0, 0, 0, 0, 3}).toByteArray();
        Table t = Table.decode(new NetlinkMessage(NftNumbers.type(NftNumbers.NFT_MSG_NEWTABLE), 2, 1, 0, ByteBuffer.wrap(payload)));
        assertEquals(new Table(TableFamily.IPV6, "kube-proxy"), t);
    }

    @Test
    void aFamilyWeDoNotKnowIsSkippedAndAMessageWithoutNameIsMalformed() {
        byte[] unknown = new AttributeWriter().header(new byte[] {99, 0, 0, 0})
                .putString(NftNumbers.NFTA_TABLE_NAME, "t").toByteArray();
        assertNull(Table.decode(new NetlinkMessage(0xa00, 2, 1, 0, ByteBuffer.wrap(unknown))));
        byte[] nameless = new AttributeWriter().header(new byte[] {2, 0, 0, 0}).putBe32(2, 0).toByteArray();
        assertThrows(IllegalArgumentException.class,
                () -> Table.decode(new NetlinkMessage(0xa00, 2, 1, 0, ByteBuffer.wrap(nameless))));
        assertThrows(IllegalArgumentException.class,
                () -> Table.decode(new NetlinkMessage(0xa00, 2, 1, 0, ByteBuffer.wrap(new byte[2]))));
    }
}
