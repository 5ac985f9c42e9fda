package dev.ferry.iptables;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Restore input that puts one table's KUBE-* chains and the jumps into them back as an earlier
 * iptables-save showed them, given what the table holds now. {@link Rollback} undoes a payload
 * that only inserted jumps; a userspace apply may also have deleted jumps and chains (the
 * iptables mode's leftovers), so this compares two dumps instead. Rules of built-in chains
 * that do not jump into a KUBE-* chain, and every foreign chain, are never touched.
 */
final class PortalUndo {

    private PortalUndo() {
    }

    /** "" when the table's KUBE-* state is already as it was. */
    static String of(IptablesDump before, IptablesDump now, String table) {
        IptablesDump.Table was = before.table(table);
        IptablesDump.Table is = now.table(table);
        StringBuilder declare = new StringBuilder();
        List<String> fill = new ArrayList<>();
        List<String> jumps = new ArrayList<>();
        List<String> deletes = new ArrayList<>();
        for (IptablesDump.Chain c : was.chains().values()) {
            if (c.builtIn() || !ChainNames.isOurs(c.name())) {
                continue;
            }
            var current = is.chain(c.name());
            if (current.isEmpty() || !current.get().rules().equals(c.rules())) {
                declare.append(':').append(c.name()).append(" - [0:0]\n"); // creates or flushes
                c.rules().forEach(r -> fill.add(r.text()));
            }
        }
        for (IptablesDump.Chain c : is.chains().values()) {
            if (c.builtIn()) {
                jumps.addAll(builtInChanges(was.chain(c.name()).map(IptablesDump.Chain::rules).orElse(List.of()),
                        c.rules()));
            } else if (ChainNames.isOurs(c.name()) && !was.has(c.name())) {
                declare.append(':').append(c.name()).append(" - [0:0]\n");
                deletes.add("-X " + c.name());
            }
        }
        if (declare.length() == 0 && jumps.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder("*").append(table).append('\n').append(declare);
        fill.forEach(l -> out.append(l).append('\n'));
        jumps.forEach(l -> out.append(l).append('\n'));
        deletes.forEach(l -> out.append(l).append('\n'));
        return out.append("COMMIT\n").toString();
    }

    /**
     * Deletes the jumps into KUBE-* chains that were not there, then inserts those that went
     * missing at their old positions (in increasing order, so each position counts the rules
     * restored before it).
     */
    private static List<String> builtInChanges(List<IptablesDump.Rule> was, List<IptablesDump.Rule> is) {
        List<String> out = new ArrayList<>();
        Map<IptablesDump.Rule, Integer> available = new HashMap<>();
        was.forEach(r -> available.merge(r, 1, Integer::sum));
        List<IptablesDump.Rule> kept = new ArrayList<>();
        for (IptablesDump.Rule r : is) {
            Integer n = available.get(r);
            if (n != null && n > 0) {
                available.put(r, n - 1);
                kept.add(r);
            } else if (ChainNames.isOurs(r.target())) {
                out.add("-D " + r.text().substring(3));
            } else {
                kept.add(r); // not ours to remove
            }
        }
        for (int i = 0; i < was.size(); i++) {
            IptablesDump.Rule r = was.get(i);
            if (i < kept.size() && kept.get(i).equals(r)) {
                continue;
            }
            if (!ChainNames.isOurs(r.target())) {
                continue; // we never removed it; someone else did
            }
            String text = r.text();
            out.add("-I " + r.chain() + " " + (i + 1) + text.substring(3 + r.chain().length()));
            kept.add(Math.min(i, kept.size()), r);
        }
        return out;
    }
}
