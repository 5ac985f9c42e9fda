package dev.ferry.proxy.inspect;

import dev.ferry.iptables.IptablesDump;

import java.util.ArrayList;
import java.util.List;

/**
 * Settles interface matches ({@code -i}, {@code -o}) in a dump for one packet, because the
 * tracer does not model interfaces: a rule whose interface match holds loses that match, a rule
 * whose match fails is removed (it can never match this packet). An interface given as null is
 * unknown and its matches are left for the tracer to report.
 */
final class Interfaces {

    private Interfaces() {
    }

    static IptablesDump resolve(IptablesDump dump, String in, String out) {
        if (in == null && out == null) {
            return dump;
        }
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
                        sb.append(new IptablesDump.Rule(c.name(), args).text()).append('\n');
                    }
                }
            }
            sb.append("COMMIT\n");
        }
        return IptablesDump.parse(sb.toString());
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
