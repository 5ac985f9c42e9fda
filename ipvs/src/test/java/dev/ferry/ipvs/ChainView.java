package dev.ferry.ipvs;

import java.util.ArrayList;
import java.util.List;

/**
 * The view upstream's IPVS tests take of generated rules (netlinktest.ExpectedIptablesChain and
 * checkIptables in pkg/proxy/ipvs/proxier_test.go): per chain name, in order, each rule's jump
 * target, matched set and source address; a chain name present in both tables lists the nat
 * rules first, as upstream's fake iptables reads the restore input.
 */
record ChainView(String jump, String matchSet, String source) {

    static ChainView rule(String jump, String matchSet) {
        return new ChainView(jump, matchSet, "");
    }

    static ChainView returnFrom(String source) {
        return new ChainView("RETURN", "", source);
    }

    static List<ChainView> of(String restoreText, String chain) {
        List<ChainView> out = new ArrayList<>();
        for (String table : new String[] {"*nat", "*filter"}) {
            boolean in = false;
            for (String line : restoreText.split("\n")) {
                if (line.startsWith("*")) {
                    in = line.equals(table);
                    continue;
                }
                if (!in || !line.startsWith("-A " + chain + " ")) {
                    continue;
                }
                List<String> words = words(line);
                String jump = after(words, "-j");
                String set = after(words, "--match-set");
                int s = words.indexOf("-s");
                String source = s > 0 && !words.get(s - 1).equals("!") ? words.get(s + 1) : "";
                out.add(new ChainView(jump, set, source));
            }
        }
        return out;
    }

    private static String after(List<String> words, String flag) {
        int i = words.indexOf(flag);
        return i < 0 ? "" : words.get(i + 1);
    }

    /** Splits on spaces, keeping "quoted comments" as one word. */
    private static List<String> words(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ' ' && !quoted) {
                if (w.length() > 0) {
                    out.add(w.toString());
                    w.setLength(0);
                }
            } else {
                w.append(c);
            }
        }
        if (w.length() > 0) {
            out.add(w.toString());
        }
        return out;
    }
}
