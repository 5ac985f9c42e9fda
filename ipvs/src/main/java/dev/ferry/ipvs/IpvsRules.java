package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTraffic;
import dev.ferry.netfilter.CleanupPlan;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.Iptables;
import dev.ferry.netfilter.JumpRule;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Applies one family's ipsets and iptables rules of IPVS mode: `ipset restore` first (the rules
 * reference the sets), then one `iptables-restore --noflush` that declares and refills only our
 * chains and prepends the jumps from built-in chains that are missing. Runs on the caller's
 * thread; on failure it throws and leaves whatever was applied before in place (never flushes
 * to recover) so the next sync retries.
 */
final class IpvsRules {

    private IpvsRules() {
    }

    /** What one apply did. */
    record Applied(int sets, int jumpsAdded, int iptablesLines) {
    }

    /**
     * Makes the node's sets and rules of {@code sets.family()} match {@code sets}. Sets are never
     * destroyed here (rules may still reference them): an unused set is just left empty.
     *
     * @param local  the family's local-traffic detector on this node
     * @param writer a writer of the same family as {@code sets}
     * @throws IOException naming the command and its error output when one fails or cannot start
     */
    static Applied apply(CommandRunner runner, IpvsSets sets, LocalTraffic local, IpvsRuleWriter writer)
            throws IOException {
        Objects.requireNonNull(runner, "runner");
        Iptables iptables = new Iptables(sets.family(), runner);

        CommandRunner.Result r = runner.run(List.of("ipset", "restore"),
                sets.restoreText().getBytes(StandardCharsets.UTF_8));
        if (!r.ok()) {
            throw new IOException("ipset restore exited " + r.exitCode() + ": " + r.stderr().strip());
        }

        List<JumpRule> missing = new ArrayList<>();
        for (JumpRule jump : IpvsChains.JUMPS) {
            // Missing, or its target chain is (the first sync): either way it is written.
            if (!iptables.ruleExists(jump.table(), jump.chain(), jump.argv())) {
                missing.add(jump);
            }
        }

        String text = writer.write(sets, local, missing);
        iptables.restore(text);
        return new Applied(KubeIpSet.values().length, missing.size(), (int) text.chars().filter(ch -> ch == '\n').count());
    }

    /**
     * Removes the chains of other proxy modes that this one does not write itself, with the jumps
     * to them (iptables mode's service chains and filter KUBE-SERVICES, whose REJECT rules would
     * keep refusing Services; userspace mode's portals), in one restore. Run after this mode's own
     * rules are in place: its nat KUBE-SERVICES then no longer jumps to iptables mode's chains.
     * The kubelet's chains are never removed ({@link dev.ferry.netfilter.KubeChains#isOurs}).
     *
     * @param otherModes the other modes' chains ({@code ModeContext.leftovers()}), by name
     * @return what was removed, and the chains a foreign rule still jumps to (flushed, kept)
     * @throws IOException when the tables cannot be read or the restore fails
     */
    static CleanupPlan removeLeftovers(CommandRunner runner, IpFamily family, Predicate<String> otherModes)
            throws IOException {
        Objects.requireNonNull(otherModes, "otherModes");
        return new Iptables(family, runner).removeOwned(
                (table, chain) -> otherModes.test(chain) && !IpvsChains.uses(table, chain), "nat", "filter", "mangle");
    }

    /**
     * Removes this family's IPVS-mode jumps, chains and sets (upstream's cleanupLeftovers order:
     * jumps, then flush every chain, then delete them, then destroy the sets, which iptables
     * must no longer reference). Each step runs on its own so one failure (e.g. a chain another
     * mode still references) does not stop the rest.
     *
     * @return the failures, empty when everything of ours is gone or was never there
     */
    static List<String> cleanup(CommandRunner runner, IpFamily family) throws IOException {
        Objects.requireNonNull(runner, "runner");
        Iptables iptables = new Iptables(family, runner);
        List<String> failures = new ArrayList<>();
        for (JumpRule jump : IpvsChains.JUMPS) {
            // A jump prepended twice (e.g. by two versions) is deleted until none is left; bounded.
            int deleted = 0;
            while (deleted < 16 && iptables.deleteRule(jump.table(), jump.chain(), jump.argv())) {
                deleted++;
            }
        }
        List<List<String>> chains = new ArrayList<>();
        IpvsChains.NAT.forEach(c -> chains.add(List.of("nat", c)));
        IpvsChains.FILTER.forEach(c -> chains.add(List.of("filter", c)));
        for (String op : List.of("-F", "-X")) {
            for (List<String> chain : chains) {
                CommandRunner.Result r = iptables.run(chain.get(0), op, chain.get(1), List.of());
                if (!r.ok() && !missing(r)) {
                    failures.add(iptables.command() + " -t " + chain.get(0) + " " + op + " " + chain.get(1) + ": "
                            + r.stderr().strip());
                }
            }
        }
        for (KubeIpSet set : KubeIpSet.values()) {
            for (String name : List.of(set.name(family), set.scratchName(family))) {
                CommandRunner.Result r = runner.run(List.of("ipset", "destroy", name), null);
                if (!r.ok() && !missing(r)) {
                    failures.add("ipset destroy " + name + ": " + r.stderr().strip());
                }
            }
        }
        return failures;
    }

    /** iptables and ipset say so when the chain or set is not there: nothing to clean. */
    private static boolean missing(CommandRunner.Result r) {
        String e = r.stderr();
        return e.contains("No chain/target/match by that name") || e.contains("does not exist")
                || e.contains("No such file or directory");
    }
}
