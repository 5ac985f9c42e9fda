package dev.ferry.netfilter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * What --cleanup removes, computed from the node's tables: every rule of a built-in chain that
 * jumps into one of our chains ({@link KubeChains#isOurs}: never the kubelet's), and each such
 * chain (flushed, then deleted). A chain of ours that a foreign (non-KUBE, non-built-in) chain
 * jumps to is flushed but kept, and reported.
 *
 * @param payload  iptables-restore --noflush input for all tables, "" when nothing is ours
 * @param lines    rules and deletions in it
 * @param problems what could not be removed, with why
 */
public record CleanupPlan(String payload, int lines, List<String> problems) {

    public static final List<String> TABLES = List.of("filter", "nat", "mangle");

    /**
     * The plan for the KUBE-* chains {@code remove} accepts (all of them, or another proxy mode's
     * leftovers); every other chain, ours or not, is kept and may pin one.
     */
    public static CleanupPlan of(IptablesDump dump, Predicate<String> remove) {
        Objects.requireNonNull(remove, "remove");
        return of(dump, (table, chain) -> remove.test(chain));
    }

    /**
     * The plan for the chains of ours {@code remove} accepts, asked with the table's name and the
     * chain's (a mode that uses nat KUBE-SERVICES but not filter KUBE-SERVICES removes only the latter).
     */
    public static CleanupPlan of(IptablesDump dump, BiPredicate<String, String> remove) {
        Objects.requireNonNull(remove, "remove");
        StringBuilder payload = new StringBuilder();
        List<String> problems = new ArrayList<>();
        int lines = 0;
        for (String tableName : TABLES) {
            if (!dump.tableNames().contains(tableName)) {
                continue;
            }
            StringBuilder chains = new StringBuilder();
            StringBuilder rules = new StringBuilder();
            int n = removeFrom(dump.table(tableName), chain -> remove.test(tableName, chain), chains, rules, problems);
            if (chains.length() == 0) {
                continue;
            }
            lines += n;
            payload.append('*').append(tableName).append('\n').append(chains).append(rules).append("COMMIT\n");
        }
        return new CleanupPlan(payload.toString(), lines, List.copyOf(problems));
    }

    /**
     * One table's part of a plan, to embed in a larger payload: ":CHAIN" lines (each flushes a
     * chain) to {@code chains}, then jump deletions and chain deletions to {@code rules}.
     *
     * @return the number of lines written to {@code rules}
     */
    public static int removeFrom(IptablesDump.Table table, Predicate<String> remove, StringBuilder chains,
                          StringBuilder rules, List<String> problems) {
        String tableName = table.name();
        Set<String> ours = new HashSet<>();
        for (String chain : table.chains().keySet()) {
            if (KubeChains.isOurs(chain) && remove.test(chain)) {
                ours.add(chain);
            }
        }
        if (ours.isEmpty()) {
            return 0;
        }
        int lines = 0;
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
        return lines;
    }
}
