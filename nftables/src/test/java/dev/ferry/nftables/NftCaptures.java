package dev.ferry.nftables;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The messages nft sent for a script, captured on this kernel with src/test/capture/capture-nft.py
 * (nft 1.0.6 --debug=mnl in a throwaway netns; the script is at the top of each file), and a
 * readable rendering of a payload's attribute tree to compare ours with them.
 */
final class NftCaptures {

    /** One message: its NFT_MSG_* number and payload. */
    record Captured(int message, byte[] payload) {
    }

    private NftCaptures() {
    }

    static List<Captured> load(String resource) throws IOException {
        try (InputStream in = NftCaptures.class.getResourceAsStream("/nft-netlink/" + resource)) {
            if (in == null) {
                throw new IOException("test resource nft-netlink/" + resource + " is missing");
            }
            List<Captured> out = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.trim().split(" ");
                out.add(new Captured(Integer.parseInt(parts[0]), HexFormat.of().parseHex(parts[1])));
            }
            return out;
        }
    }

    /** The nft script a capture was made of (its "#   " lines). */
    static String script(String resource) throws IOException {
        try (InputStream in = NftCaptures.class.getResourceAsStream("/nft-netlink/" + resource)) {
            if (in == null) {
                throw new IOException("test resource nft-netlink/" + resource + " is missing");
            }
            StringBuilder out = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("#   ")) {
                    out.append(line.substring(4)).append('\n');
                }
            }
            return out.toString();
        }
    }

    /** Our buffered commands as captures. */
    static List<Captured> of(Nftables nft) {
        List<Captured> out = new ArrayList<>();
        for (Map.Entry<Integer, byte[]> e : nft.pending().commandPayloads()) {
            out.add(new Captured(e.getKey(), e.getValue()));
        }
        return out;
    }

    /**
     * One line per attribute: its path (an expression's list element is named by the expression,
     * "4/lookup#2/2/1"), N for nested, and the value in hex (with the text of a string). The nfgenmsg
     * comes first. Lengths of nested attributes follow from their content, so they are left out.
     */
    static String render(Captured c) {
        StringBuilder out = new StringBuilder("message " + c.message() + " nfgenmsg "
                + HexFormat.of().formatHex(c.payload(), 0, 4) + "\n");
        walk(ByteBuffer.wrap(c.payload()).order(ByteOrder.nativeOrder()), 4, c.payload().length, "", out);
        return out.toString();
    }

    private static void walk(ByteBuffer b, int from, int to, String path, StringBuilder out) {
        int at = from;
        int index = 0;
        while (at + 4 <= to) {
            int len = b.getShort(at) & 0xffff;
            int rawType = b.getShort(at + 2) & 0xffff;
            int type = rawType & 0x3fff;
            boolean nested = (rawType & 0x8000) != 0;
            index++;
            String label = String.valueOf(type);
            if (nested) {
                String name = expressionName(b, at + 4, at + len);
                if (name != null) {
                    label = name + "#" + index;
                }
                out.append(path).append(label).append(" N\n");
                walk(b, at + 4, at + len, path + label + "/", out);
            } else {
                byte[] v = new byte[len - 4];
                b.get(at + 4, v);
                out.append(path).append(label).append(" = ").append(HexFormat.of().formatHex(v)).append("\n");
            }
            at += (len + 3) & ~3;
        }
    }

    /** The NFTA_EXPR_NAME inside a list element, if this nest is one. */
    private static String expressionName(ByteBuffer b, int from, int to) {
        if (from + 4 > to) {
            return null;
        }
        int len = b.getShort(from) & 0xffff;
        int type = b.getShort(from + 2) & 0xffff;
        if (type != 1 || len < 6 || from + len > to) {
            return null;
        }
        byte[] v = new byte[len - 5];
        b.get(from + 4, v);
        String s = new String(v, StandardCharsets.US_ASCII);
        return b.get(from + len - 1) == 0 && s.matches("[a-z]+") ? s : null;
    }
}
