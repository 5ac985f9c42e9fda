package dev.ferry.netfilter;

import java.util.ArrayList;
import java.util.List;

/**
 * A rule in a built-in chain that sends traffic into one of our chains, e.g. nat PREROUTING
 * → KUBE-SERVICES. Upstream inserts these at the top of the built-in chain ("prepend") when
 * missing; they are the only rules we ever put into chains we do not own.
 *
 * @param extraArgs match arguments before the comment, as upstream orders them
 * @param comment   "" for none
 */
public record JumpRule(String table, String chain, String target, String comment, List<String> extraArgs) {

    public JumpRule {
        extraArgs = List.copyOf(extraArgs);
    }

    /** The rule's arguments after the chain name, as written to iptables-restore (the comment quoted as needed). */
    public List<String> args() {
        return args(RuleText.comment(comment));
    }

    /** The rule's arguments as a command's argument list (for {@code iptables -C} / {@code -D}): the comment unquoted. */
    public List<String> argv() {
        return args(comment);
    }

    private List<String> args(String commentWord) {
        List<String> args = new ArrayList<>(extraArgs);
        if (!comment.isEmpty()) {
            args.add("-m");
            args.add("comment");
            args.add("--comment");
            args.add(commentWord);
        }
        args.add("-j");
        args.add(target);
        return args;
    }

    /** The restore line that adds this jump with {@code op} ("-I" to prepend, "-A" to append), without "\n". */
    public String line(String op) {
        return op + " " + chain + " " + String.join(" ", args());
    }

    /**
     * Whether the dump already has this jump. iptables-save may reorder matches, so a rule
     * counts when it is in the right chain, has our target and our comment.
     */
    public boolean presentIn(IptablesDump dump) {
        return dump.table(table).chain(chain)
                .map(c -> c.rules().stream().anyMatch(r -> r.target().equals(target) && r.comment().equals(comment)))
                .orElse(false);
    }
}
