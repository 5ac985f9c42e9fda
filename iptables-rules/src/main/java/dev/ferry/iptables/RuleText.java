package dev.ferry.iptables;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/** Formatting details shared by the rule writer: comments and probabilities. */
final class RuleText {

    /** xt_comment holds 256 bytes including the terminating NUL. */
    static final int MAX_COMMENT = 255;

    private static final List<String> PROBABILITIES = new ArrayList<>();

    private RuleText() {
    }

    /**
     * A comment argument that iptables-restore reads back as one word. Upstream writes
     * "ns/svc:port" bare and longer text in double quotes; we do the same, but first replace
     * any character that could end the quoted word or the line (quotes, backslashes, control
     * characters, non-ASCII) with '_' and cut it to what xt_comment holds, so no name from the
     * API can break or extend a rule even if it slipped past validation.
     */
    static String comment(String text) {
        // Fast path (every name that passed validation): nothing to replace, nothing to cut.
        if (!text.isEmpty() && text.length() <= MAX_COMMENT) {
            boolean clean = true;
            boolean bareText = true;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '\'' || c == '`') {
                    clean = false;
                    break;
                }
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                        || c == '/' || c == ':' || c == '.' || c == '-' || c == '_')) {
                    bareText = false;
                }
            }
            if (clean) {
                return bareText ? text : "\"" + text + "\"";
            }
        }
        StringBuilder safe = new StringBuilder(Math.min(text.length(), MAX_COMMENT) + 2);
        boolean bare = !text.isEmpty();
        for (int i = 0; i < text.length() && safe.length() < MAX_COMMENT; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '\'' || c == '`') {
                c = '_';
            }
            if (!(Character.isLetterOrDigit(c) || c == '/' || c == ':' || c == '.' || c == '-' || c == '_')) {
                bare = false;
            }
            safe.append(c);
        }
        return bare ? safe.toString() : "\"" + safe + "\"";
    }

    /**
     * 1/n with ten decimals, rounded as Go's %0.10f rounds (half to even on the exact binary
     * value), e.g. n=2048 gives 0.0004882812, not ...813.
     */
    static String probability(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be positive: " + n);
        }
        synchronized (PROBABILITIES) {
            while (PROBABILITIES.size() <= n) {
                int k = PROBABILITIES.size();
                PROBABILITIES.add(k == 0 ? "<bad value>"
                        : new BigDecimal(1.0 / k).setScale(10, RoundingMode.HALF_EVEN).toPlainString());
            }
            return PROBABILITIES.get(n);
        }
    }
}
