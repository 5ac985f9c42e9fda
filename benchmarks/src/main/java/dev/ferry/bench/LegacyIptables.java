package dev.ferry.bench;

import dev.ferry.iptables.CommandRunner;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the xtables-legacy variant of every iptables program (iptables-restore becomes
 * iptables-legacy-restore, and so on), for the same measurements on the legacy backend.
 */
final class LegacyIptables implements CommandRunner {

    private final CommandRunner inner;

    LegacyIptables(CommandRunner inner) {
        this.inner = inner;
    }

    /** argv with the program renamed; the prefix (ip netns exec NS) is left alone. */
    static List<String> legacy(List<String> argv) {
        List<String> out = new ArrayList<>(argv);
        String program = out.get(0);
        if (program.matches("ip6?tables(-save|-restore)?")) {
            int dash = program.indexOf('-');
            out.set(0, dash < 0 ? program + "-legacy" : program.substring(0, dash) + "-legacy" + program.substring(dash));
        }
        return out;
    }

    @Override
    public Result run(List<String> argv, byte[] stdin) throws IOException {
        return inner.run(legacy(argv), stdin);
    }

    @Override
    public Result runStreaming(List<String> argv, Input stdin) throws IOException {
        return inner.runStreaming(legacy(argv), stdin);
    }

    @Override
    public Result runReading(List<String> argv, Output stdout) throws IOException {
        return inner.runReading(legacy(argv), stdout);
    }

    @Override
    public boolean appliesChanges() {
        return inner.appliesChanges();
    }
}
