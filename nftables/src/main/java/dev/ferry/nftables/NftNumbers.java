package dev.ferry.nftables;

import dev.ferry.nativeio.NetlinkMessage;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The nf_tables netlink numbers (uapi linux/netfilter/nf_tables.h and nfnetlink.h) this package
 * speaks, and the nfgenmsg header every message starts with. Numbers in attributes are big-endian.
 */
final class NftNumbers {

    /** NFNL_SUBSYS_NFTABLES: the high byte of every nf_tables message type. */
    static final int SUBSYSTEM = 10;
    static final int NFNL_MSG_BATCH_BEGIN = 0x10;
    static final int NFNL_MSG_BATCH_END = 0x11;
    static final int NFNETLINK_V0 = 0;
    /** NFPROTO_UNSPEC: a dump of every family; also the family of a batch's BEGIN and END. */
    static final int FAMILY_UNSPEC = 0;
    static final int NFGENMSG_LENGTH = 4;

    // enum nf_tables_msg_types
    static final int NFT_MSG_NEWTABLE = 0;
    static final int NFT_MSG_GETTABLE = 1;
    static final int NFT_MSG_DELTABLE = 2;

    // enum nft_table_attributes
    static final int NFTA_TABLE_NAME = 1;

    /** NLM_F_REQUEST and NLM_F_ACK: a command whose success the kernel confirms, so a batch's outcome is known. */
    static final int COMMAND_FLAGS = NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK;

    private NftNumbers() {
    }

    /** The netlink message type of nf_tables message {@code message} (NFT_MSG_*). */
    static int type(int message) {
        return (SUBSYSTEM << 8) | message;
    }

    /**
     * struct nfgenmsg: family, version, res_id (big-endian). A batch's BEGIN and END carry the
     * subsystem in res_id; nf_tables messages carry 0 there.
     */
    static byte[] nfgenmsg(int family, int resId) {
        return ByteBuffer.allocate(NFGENMSG_LENGTH).order(ByteOrder.BIG_ENDIAN)
                .put((byte) family).put((byte) NFNETLINK_V0).putShort((short) resId).array();
    }
}
