package dev.ferry.iptables;

import dev.ferry.netfilter.LineBuffer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shared chains of one table (nat KUBE-SERVICES, KUBE-NODEPORTS, …; the whole filter part)
 * in one write: their rules split out by chain, and which of them differ from what the last
 * committed write put on the node. A partial write declares and rewrites only those; a full
 * write all of them. The last committed rules of each chain are kept as text (nat
 * KUBE-SERVICES is about 1.5 MB at 10k Services), compared without copying.
 *
 * <p>Threads: owned by one {@link IptablesRuleWriter}, used on the sync thread only.
 */
final class TopChains {

    private final List<String> base;
    /** The order a full write puts the chains' rules in (upstream's: KUBE-SERVICES' last rule last). */
    private final List<String> ruleOrder;
    /** Rules of each chain in this write, reused between writes. */
    private final Map<String, LineBuffer> current = new HashMap<>();
    /** Lines of this write that belong to no shared chain (jump inserts into built-in chains). */
    private final LineBuffer other = new LineBuffer();
    private final List<String> declared = new ArrayList<>();
    private final List<String> toWrite = new ArrayList<>();
    private Map<String, String> committed = Map.of();
    private Map<String, String> pending;
    private boolean full;

    TopChains(List<String> chains, List<String> ruleOrder) {
        this.base = List.copyOf(chains);
        this.ruleOrder = List.copyOf(ruleOrder);
        if (!Set.copyOf(base).equals(Set.copyOf(ruleOrder))) {
            throw new IllegalArgumentException("rule order " + ruleOrder + " is not an order of " + chains);
        }
        for (String chain : base) {
            current.put(chain, new LineBuffer());
        }
        current.put(ChainNames.CANARY, new LineBuffer());
    }

    /** Starts a write: no rules yet. */
    void reset() {
        for (LineBuffer b : current.values()) {
            b.reset();
        }
        other.reset();
    }

    /** Where this write's rules of {@code chain} go. */
    LineBuffer rules(String chain) {
        LineBuffer b = current.get(chain);
        if (b == null) {
            throw new IllegalArgumentException("not a shared chain here: " + chain);
        }
        return b;
    }

    /**
     * Adds whole "-A CHAIN …" / "-I …" lines in any interleaving (the small filter part): each
     * goes to its chain, in order; lines of other chains are kept aside and always written.
     */
    void split(StringBuilder lines) {
        int length = lines.length();
        int from = 0;
        while (from < length) {
            int end = lines.indexOf("\n", from) + 1;
            if (end <= 0) {
                throw new IllegalArgumentException("not a whole line at " + from);
            }
            LineBuffer to = other;
            if (end - from > 3 && lines.charAt(from) == '-' && lines.charAt(from + 1) == 'A') {
                int space = lines.indexOf(" ", from + 3);
                LineBuffer chain = current.get(lines.substring(from + 3, space));
                if (chain != null) {
                    to = chain;
                }
            }
            to.append(lines, from, end);
            from = end;
        }
    }

    /** Total rules of this write, whether or not written. */
    int lines() {
        int n = other.lines();
        for (LineBuffer b : current.values()) {
            n += b.lines();
        }
        return n;
    }

    /**
     * Decides what this write rewrites, once all its rules are in.
     *
     * @param full   write every chain, else only those whose rules changed since the last commit
     * @param canary this write declares KUBE-PROXY-CANARY too
     */
    void decide(boolean full, boolean canary) {
        declared.clear();
        declared.addAll(base);
        if (canary) {
            declared.add(ChainNames.CANARY);
        }
        this.full = full;
        toWrite.clear();
        pending = new LinkedHashMap<>();
        for (String chain : declared) {
            StringBuilder rules = current.get(chain).text();
            String last = committed.get(chain);
            if (!full && last != null && last.contentEquals(rules)) {
                pending.put(chain, last); // unchanged on the node: not written
            } else {
                toWrite.add(chain);
                pending.put(chain, rules.toString());
            }
        }
        if (!full) {
            // A chain the last write declared but this one does not (the canary) stays as it is.
            committed.forEach(pending::putIfAbsent);
        }
    }

    /** ":CHAIN - [0:0]" of the chains this write rewrites (each flushes the chain). */
    void appendDeclarations(StringBuilder out) {
        for (String chain : toWrite) {
            out.append(':').append(chain).append(" - [0:0]\n");
        }
    }

    /**
     * This write's lines outside the shared chains, then the rules of the chains it rewrites,
     * chain by chain (a full write: all, in the rule order).
     */
    void appendRules(Payload payload) {
        if (other.text().length() > 0) {
            payload.add(other.text());
        }
        for (String chain : full ? ruleOrder : toWrite) {
            StringBuilder rules = current.get(chain).text();
            if (rules.length() > 0) {
                payload.add(rules);
            }
        }
    }

    /** Whether this write has nothing for the table. */
    boolean nothingToWrite() {
        return toWrite.isEmpty() && other.text().length() == 0;
    }

    /** Every shared chain with its rules as they are after this write, without the inserts. */
    String wholeSection(String table) {
        StringBuilder sb = new StringBuilder("*").append(table).append('\n');
        for (String chain : declared) {
            sb.append(':').append(chain).append(" - [0:0]\n");
        }
        for (String chain : declared) {
            sb.append(current.get(chain).text());
        }
        return sb.append("COMMIT\n").toString();
    }

    /** Chains this write rewrites, in order (for tests). */
    List<String> toWrite() {
        return List.copyOf(toWrite);
    }

    void commit() {
        if (pending != null) {
            committed = pending;
            pending = null;
        }
    }

    void abandon() {
        pending = null;
    }
}
