package dev.ferry.ipvs.rules;

import dev.ferry.core.IpFamily;
import dev.ferry.iptables.CommandRunner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Applies one family's ipsets and iptables rules of IPVS mode: `ipset restore` first (the rules
 * reference the sets), then one `iptables-restore --noflush` that declares and refills only our
 * chains and prepends the jumps from built-in chains that are missing. Runs on the caller's
 * thread; on failure it throws and leaves whatever was applied before in place (never flushes
 * to recover) so the next sync retries.
 */
public final class IpvsRules {

    private IpvsRules() {
    }

    /** What one apply did. */
    public record Applied(int sets, int jumpsAdded, int iptablesLines) {
    }

    public static Applied apply(CommandRunner runner, IpvsSets sets, IpvsRuleWriter writer) throws IOException {
        Objects.requireNonNull(runner, "runner");
        IpFamily family = sets.family();
        String iptables = family == IpFamily.IPV4 ? "iptables" : "ip6tables";

        CommandRunner.Result r = runner.run(List.of("ipset", "restore"),
                sets.restoreText().getBytes(StandardCharsets.UTF_8));
        if (!r.ok()) {
            throw new IOException("ipset restore exited " + r.exitCode() + ": " + r.stderr().strip());
        }

        List<IpvsJump> missing = new ArrayList<>();
        for (IpvsJump jump : IpvsJump.ALL) {
            List<String> check = new ArrayList<>(List.of(iptables, "-w", "5", "-t", jump.table(), "-C", jump.chain()));
            check.addAll(jump.args());
            CommandRunner.Result c = runner.run(check, null);
            // 1 means "no such rule"; it is also what a missing target chain gives on the first sync.
            if (!c.ok()) {
                missing.add(jump);
            }
        }

        String text = writer.write(sets, missing);
        CommandRunner.Result restore = runner.run(List.of(iptables + "-restore", "-w", "5", "--noflush", "--counters"),
                text.getBytes(StandardCharsets.UTF_8));
        if (!restore.ok()) {
            throw new IOException(iptables + "-restore exited " + restore.exitCode() + ": " + restore.stderr().strip());
        }
        return new Applied(KubeIpSet.values().length, missing.size(), (int) text.chars().filter(ch -> ch == '\n').count());
    }
}
