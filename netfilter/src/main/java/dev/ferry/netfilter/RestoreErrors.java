package dev.ferry.netfilter;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads iptables-restore's complaint and shows the payload lines it points at. */
final class RestoreErrors {

    private static final Pattern NAMED = Pattern.compile("'([^']+)'");
    private static final Pattern LINE = Pattern.compile("(?:Error occurred at line|line):? (\\d+)");

    private RestoreErrors() {
    }

    /** The line number iptables-restore names, or -1. */
    static int reportedLine(String stderr) {
        Matcher m = LINE.matcher(stderr == null ? "" : stderr);
        if (!m.find()) {
            return -1;
        }
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
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
        // nf_tables reports errors found at commit time on the COMMIT line (sometimes one past
        // it); then the chain the message names is the better pointer.
        Matcher named = NAMED.matcher(stderr);
        if (named.find() && (line < 1 || line > lines.length || lines[line - 1].isBlank()
                || lines[line - 1].equals("COMMIT"))) {
            String name = named.group(1);
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].startsWith("-") && lines[i].contains(name)) {
                    return "; failing line " + (i + 1) + ": " + lines[i];
                }
            }
        }
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
