package dev.ferry.mode.inspect;

import dev.ferry.netfilter.IptablesDump;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Settles interface matches ({@code -i}, {@code -o}) in a dump for one packet, because the
 * tracer does not model interfaces: a rule whose interface match holds loses that match, a rule
 * whose match fails is removed (it can never match this packet). An interface given as null is
 * unknown and its matches are left for the tracer to report.
 */
final class Interfaces {

    private Interfaces() {
    }

    /**
     * A dump with interface matches settled, and for each rule whose text changed, its original
     * text ("table: -A …" both), so that a trace shows the rules as the node has them.
     */
    record Settled(IptablesDump dump, Map<String, String> originals) {
        /** A tracer path step ("table: rule") as the node's rule reads. */
        String original(String step) {
            return originals.getOrDefault(step, step);
        }
    }

    static IptablesDump resolve(IptablesDump dump, String in, String out) {
        return settle(dump, in, out).dump();
    }

    static Settled settle(IptablesDump dump, String in, String out) {
        if (in == null && out == null) {
            return new Settled(dump, Map.of());
        }
        Map<String, String> originals = new HashMap<>();
        StringBuilder sb = new StringBuilder();
        for (String tableName : dump.tableNames()) {
            IptablesDump.Table table = dump.table(tableName);
            sb.append('*').append(tableName).append('\n');
            for (IptablesDump.Chain c : table.chains().values()) {
                sb.append(':').append(c.name()).append(' ').append(c.policy()).append(" [0:0]\n");
            }
            for (IptablesDump.Chain c : table.chains().values()) {
                for (IptablesDump.Rule r : c.rules()) {
                    List<String> args = settle(r.args(), in, out);
                    if (args != null) {
                        String text = new IptablesDump.Rule(c.name(), args).text();
                        if (!text.equals(r.text())) {
                            // two rules of a chain settling to the same text: the first is the one that matches first
                            originals.putIfAbsent(tableName + ": " + text, tableName + ": " + r.text());
                        }
                        sb.append(text).append('\n');
                    }
                }
            }
            sb.append("COMMIT\n");
        }
        return new Settled(IptablesDump.parse(sb.toString()), originals);
    }

    /** The rule's words without its settled interface matches; null when one of them fails. */
    static List<String> settle(List<String> args, String in, String out) {
        List<String> kept = new ArrayList<>(args.size());
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            boolean negated = a.equals("!") && i + 1 < args.size() && isInterfaceOption(args.get(i + 1));
            String opt = negated ? args.get(i + 1) : a;
            if (isInterfaceOption(opt) && i + (negated ? 2 : 1) < args.size()) {
                String iface = opt.equals("-i") || opt.equals("--in-interface") ? in : out;
                String pattern = args.get(i + (negated ? 2 : 1));
                if (iface == null) {
                    kept.add(a);
                    continue;
                }
                if (matches(pattern, iface) == negated) {
                    return null;
                }
                i += negated ? 2 : 1;
                continue;
            }
            if (a.equals("-j") || a.equals("--jump") || a.equals("-g") || a.equals("--goto")) {
                kept.addAll(args.subList(i, args.size()));
                break;
            }
            kept.add(a);
        }
        return kept;
    }

    private static boolean isInterfaceOption(String a) {
        return a.equals("-i") || a.equals("--in-interface") || a.equals("-o") || a.equals("--out-interface");
    }

    /** iptables' interface match: exact, or a prefix when the pattern ends with "+". */
    static boolean matches(String pattern, String iface) {
        if (pattern.endsWith("+")) {
            return iface.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        return pattern.equals(iface);
    }
}
