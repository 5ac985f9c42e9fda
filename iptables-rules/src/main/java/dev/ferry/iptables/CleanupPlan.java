package dev.ferry.iptables;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What --cleanup removes, computed from the node's tables: every rule of a built-in chain that
 * jumps into a KUBE-* chain, and every KUBE-* chain (flushed, then deleted). A KUBE-* chain
 * that a foreign (non-KUBE, non-built-in) chain jumps to is flushed but kept, and reported.
 *
 * @param payload  iptables-restore --noflush input for all tables, "" when nothing is ours
 * @param lines    rules and deletions in it
 * @param problems what could not be removed, with why
 */
record CleanupPlan(String payload, int lines, List<String> problems) {

    static final List<String> TABLES = List.of("filter", "nat", "mangle");

    static CleanupPlan of(IptablesDump dump) {
        StringBuilder payload = new StringBuilder();
        List<String> problems = new ArrayList<>();
        int lines = 0;
        for (String tableName : TABLES) {
            if (!dump.tableNames().contains(tableName)) {
                continue;
            }
            IptablesDump.Table table = dump.table(tableName);
            Set<String> ours = new HashSet<>();
            for (String chain : table.chains().keySet()) {
                if (ChainNames.isOurs(chain)) {
                    ours.add(chain);
                }
            }
            if (ours.isEmpty()) {
                continue;
            }
            StringBuilder chains = new StringBuilder();
            StringBuilder rules = new StringBuilder();
            Set<String> pinned = new HashSet<>();
            for (IptablesDump.Chain chain : table.chains().values()) {
                if (ours.contains(chain.name())) {
                    continue;
                }
                for (IptablesDump.Rule rule : chain.rules()) {
                    if (!ours.contains(rule.target())) {
                        continue;
                    }
                    if (chain.builtIn()) {
                        rules.append("-D ").append(rule.text().substring(3)).append('\n');
                        lines++;
                    } else {
                        pinned.add(rule.target());
                        problems.add(tableName + " chain " + rule.target() + " kept: foreign chain "
                                + chain.name() + " jumps to it (" + rule.text() + ")");
                    }
                }
            }
            for (String chain : table.chains().keySet()) {
                if (!ours.contains(chain)) {
                    continue;
                }
                chains.append(':').append(chain).append(" - [0:0]\n");
                if (!pinned.contains(chain)) {
                    rules.append("-X ").append(chain).append('\n');
                    lines++;
                }
            }
            payload.append('*').append(tableName).append('\n').append(chains).append(rules).append("COMMIT\n");
        }
        return new CleanupPlan(payload.toString(), lines, List.copyOf(problems));
    }
}
