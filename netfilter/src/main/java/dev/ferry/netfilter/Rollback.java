package dev.ferry.netfilter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * iptables-restore commits each table at its COMMIT line, so when the nat part of a payload is
 * rejected the filter part before it is already in place. This builds the payload that puts
 * one table's KUBE-* chains and our jump rules back as they were before the sync, so a failed
 * sync leaves no half-applied state: from the payload that was applied ({@link #of}, for a
 * payload that only inserted jumps), or by comparing two dumps ({@link #between}, for one that
 * may also have deleted jumps and chains, such as another mode's leftovers). Rules of built-in
 * chains that do not jump into a KUBE-* chain, and every foreign chain, are never touched.
 */
final class Rollback {

    private Rollback() {
    }

    /** The 1-based line of the COMMIT that ends {@code table} in {@code payload}, or -1. */
    static int commitLine(String payload, String table) {
        String[] lines = payload.split("\n", -1);
        boolean inside = false;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].equals("*" + table)) {
                inside = true;
            } else if (inside && lines[i].equals("COMMIT")) {
                return i + 1;
            }
        }
        return -1;
    }

    /**
     * @param before  the table as it was before the payload (from iptables-save)
     * @param payload the payload whose part for {@code table} was applied
     * @return restore input undoing that part, "" when there is nothing to undo
     */
    static String of(IptablesDump before, String payload, String table) {
        String section = section(payload, table);
        if (section.isEmpty()) {
            return "";
        }
        IptablesDump applied = IptablesDump.empty().apply(section);
        IptablesDump.Table old = before.table(table);
        IptablesDump.Table written = applied.table(table);
        StringBuilder chains = new StringBuilder();
        List<String> rules = new ArrayList<>();
        List<String> deletes = new ArrayList<>();
        for (IptablesDump.Chain c : written.chains().values()) {
            if (c.builtIn()) {
                // Only our inserted jump rules are in built-in chains of the payload.
                for (IptablesDump.Rule r : c.rules()) {
                    rules.add("-D " + r.text().substring(3));
                }
            } else if (!old.has(c.name())) {
                chains.append(':').append(c.name()).append(" - [0:0]\n");
                deletes.add("-X " + c.name());
            }
        }
        for (IptablesDump.Chain c : old.chains().values()) {
            if (!c.builtIn() && written.has(c.name())) {
                chains.append(':').append(c.name()).append(" - [0:0]\n");
                for (IptablesDump.Rule r : c.rules()) {
                    rules.add(r.text());
                }
            }
        }
        StringBuilder out = new StringBuilder("*").append(table).append('\n').append(chains);
        rules.forEach(r -> out.append(r).append('\n'));
        deletes.forEach(d -> out.append(d).append('\n'));
        return out.append("COMMIT\n").toString();
    }

    private static String section(String payload, String table) {
        int start = payload.indexOf("*" + table + "\n");
        if (start < 0) {
            return "";
        }
        int end = payload.indexOf("\nCOMMIT\n", start);
        return end < 0 ? "" : payload.substring(start, end + "\nCOMMIT\n".length());
    }

    /** "" when the table's KUBE-* state is already as it was. */
    static String between(IptablesDump before, IptablesDump now, String table) {
        IptablesDump.Table was = before.table(table);
        IptablesDump.Table is = now.table(table);
        StringBuilder declare = new StringBuilder();
        List<String> fill = new ArrayList<>();
        List<String> jumps = new ArrayList<>();
        List<String> deletes = new ArrayList<>();
        for (IptablesDump.Chain c : was.chains().values()) {
            if (c.builtIn() || !KubeChains.isOurs(c.name())) {
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
            } else if (KubeChains.isOurs(c.name()) && !was.has(c.name())) {
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
            } else if (KubeChains.isOurs(r.target())) {
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
            if (!KubeChains.isOurs(r.target())) {
                continue; // we never removed it; someone else did
            }
            String text = r.text();
            out.add("-I " + r.chain() + " " + (i + 1) + text.substring(3 + r.chain().length()));
            kept.add(Math.min(i, kept.size()), r);
        }
        return out;
    }
}
