package dev.ferry.iptables;

import java.util.ArrayList;
import java.util.List;

/**
 * iptables-restore commits each table at its COMMIT line, so when the nat part of a payload is
 * rejected the filter part before it is already in place. This builds the payload that puts
 * one table's KUBE-* chains and our jump rules back as they were before the sync, so a failed
 * sync leaves no half-applied state.
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
}
