package dev.ferry.iptables;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads iptables-restore's complaint and shows the payload lines it points at. */
final class RestoreErrors {

    private static final Pattern LINE = Pattern.compile("(?:Error occurred at line|line):? (\\d+)");

    private RestoreErrors() {
    }

    /** "; failing line N: <text>" (with one line of context either side), or "" when unknown. */
    static String failingLines(String stderr, String payload) {
        Matcher m = LINE.matcher(stderr == null ? "" : stderr);
        if (!m.find()) {
            return "";
        }
        int line;
        try {
            line = Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return "";
        }
        String[] lines = payload.split("\n", -1);
        if (line < 1 || line > lines.length) {
            return "";
        }
        StringBuilder sb = new StringBuilder("; failing line ").append(line).append(": ").append(lines[line - 1]);
        if (line >= 2) {
            sb.append(" (after: ").append(lines[line - 2]).append(')');
        }
        return sb.toString();
    }
}
