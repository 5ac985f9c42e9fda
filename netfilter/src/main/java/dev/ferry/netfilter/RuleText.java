package dev.ferry.netfilter;

/** Rule text every iptables-restore writer shares: comments that stay one word. */
public final class RuleText {

    /** xt_comment holds 256 bytes including the terminating NUL. */
    public static final int MAX_COMMENT = 255;

    private RuleText() {
    }

    /**
     * A comment argument that iptables-restore reads back as one word. Upstream writes
     * "ns/svc:port" bare and longer text in double quotes; we do the same, but first replace
     * any character that could end the quoted word or the line (quotes, backslashes, control
     * characters, non-ASCII) with '_' and cut it to what xt_comment holds, so no name from the
     * API can break or extend a rule even if it slipped past validation.
     */
    public static String comment(String text) {
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
}
