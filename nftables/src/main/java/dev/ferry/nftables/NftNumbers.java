package dev.ferry.nftables;

import dev.ferry.nativeio.NetlinkAttribute;
import dev.ferry.nativeio.NetlinkMessage;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

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

    /** NFNL_BATCH_GENID: in BEGIN, the generation the batch expects (ERESTART when it moved on). */
    static final int NFNL_BATCH_GENID = 1;

    // enum nf_tables_msg_types
    static final int NFT_MSG_NEWTABLE = 0;
    static final int NFT_MSG_GETTABLE = 1;
    static final int NFT_MSG_DELTABLE = 2;
    static final int NFT_MSG_NEWCHAIN = 3;
    static final int NFT_MSG_GETCHAIN = 4;
    static final int NFT_MSG_DELCHAIN = 5;
    static final int NFT_MSG_NEWRULE = 6;
    static final int NFT_MSG_GETRULE = 7;
    static final int NFT_MSG_DELRULE = 8;
    static final int NFT_MSG_NEWSET = 9;
    static final int NFT_MSG_GETSET = 10;
    static final int NFT_MSG_DELSET = 11;
    static final int NFT_MSG_NEWSETELEM = 12;
    static final int NFT_MSG_GETSETELEM = 13;
    static final int NFT_MSG_DELSETELEM = 14;
    static final int NFT_MSG_NEWGEN = 15;
    static final int NFT_MSG_GETGEN = 16;
    // Since Linux 6.3: delete, and no error when the object does not exist.
    static final int NFT_MSG_DESTROYTABLE = 26;
    static final int NFT_MSG_DESTROYCHAIN = 27;
    static final int NFT_MSG_DESTROYSET = 29;
    static final int NFT_MSG_DESTROYSETELEM = 30;

    // enum nft_table_attributes
    static final int NFTA_TABLE_NAME = 1;
    static final int NFTA_TABLE_FLAGS = 2;
    static final int NFTA_TABLE_USERDATA = 6;

    // enum nft_chain_attributes, nft_hook_attributes
    static final int NFTA_CHAIN_TABLE = 1;
    static final int NFTA_CHAIN_HANDLE = 2;
    static final int NFTA_CHAIN_NAME = 3;
    static final int NFTA_CHAIN_HOOK = 4;
    static final int NFTA_CHAIN_POLICY = 5;
    static final int NFTA_CHAIN_TYPE = 7;
    static final int NFTA_CHAIN_USERDATA = 12;
    static final int NFTA_HOOK_HOOKNUM = 1;
    static final int NFTA_HOOK_PRIORITY = 2;

    // enum nft_rule_attributes
    static final int NFTA_RULE_TABLE = 1;
    static final int NFTA_RULE_CHAIN = 2;
    static final int NFTA_RULE_HANDLE = 3;
    static final int NFTA_RULE_EXPRESSIONS = 4;
    static final int NFTA_RULE_POSITION = 6;
    static final int NFTA_RULE_USERDATA = 7;
    static final int NFTA_LIST_ELEM = 1;
    static final int NFTA_EXPR_NAME = 1;
    static final int NFTA_EXPR_DATA = 2;

    // enum nft_set_attributes
    static final int NFTA_SET_TABLE = 1;
    static final int NFTA_SET_NAME = 2;
    static final int NFTA_SET_FLAGS = 3;
    static final int NFTA_SET_KEY_TYPE = 4;
    static final int NFTA_SET_KEY_LEN = 5;
    static final int NFTA_SET_DATA_TYPE = 6;
    static final int NFTA_SET_DATA_LEN = 7;
    static final int NFTA_SET_DESC = 9;
    static final int NFTA_SET_ID = 10;
    static final int NFTA_SET_TIMEOUT = 11;
    static final int NFTA_SET_USERDATA = 13;
    static final int NFTA_SET_DESC_SIZE = 1;
    /** NFT_DATA_VERDICT: the data type of a verdict map. */
    static final long NFT_DATA_VERDICT = 0xffffff00L;

    // enum nft_set_elem_list_attributes, nft_set_elem_attributes
    static final int NFTA_SET_ELEM_LIST_TABLE = 1;
    static final int NFTA_SET_ELEM_LIST_SET = 2;
    static final int NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    static final int NFTA_SET_ELEM_LIST_SET_ID = 4;
    static final int NFTA_SET_ELEM_KEY = 1;
    static final int NFTA_SET_ELEM_DATA = 2;
    static final int NFTA_SET_ELEM_FLAGS = 3;
    static final int NFTA_SET_ELEM_TIMEOUT = 4;
    static final int NFTA_SET_ELEM_USERDATA = 6;
    static final int NFT_SET_ELEM_INTERVAL_END = 1;

    // enum nft_data_attributes, nft_verdict_attributes
    static final int NFTA_DATA_VALUE = 1;
    static final int NFTA_DATA_VERDICT = 2;
    static final int NFTA_VERDICT_CODE = 1;
    static final int NFTA_VERDICT_CHAIN = 2;

    // enum nft_gen_attributes
    static final int NFTA_GEN_ID = 1;

    /** What nft adds to NEWCHAIN, NEWSET and NEWSETELEM: "add", no error when it exists. */
    static final int CREATE = NetlinkMessage.NLM_F_CREATE;
    /** What nft adds to NEWRULE: a new rule, at the end (or after NFTA_RULE_POSITION). */
    static final int CREATE_APPEND = NetlinkMessage.NLM_F_CREATE | 0x800;

    private NftNumbers() {
    }

    /** The family in the nfgenmsg of a kernel message about a table's object. */
    static TableFamily family(NetlinkMessage message) {
        ByteBuffer p = message.payload();
        if (p.remaining() < NFGENMSG_LENGTH) {
            throw new IllegalArgumentException("message of " + p.remaining() + " bytes has no nfgenmsg");
        }
        TableFamily family = TableFamily.of(p.get(0) & 0xff);
        if (family == null) {
            throw new IllegalArgumentException("family " + (p.get(0) & 0xff) + " is not one this client knows");
        }
        return family;
    }

    /** The attributes after the nfgenmsg of a kernel message. */
    static List<NetlinkAttribute> attributes(NetlinkMessage message) {
        return NetlinkAttribute.parse(message.payload().position(NFGENMSG_LENGTH));
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
