package dev.ferry.bench;

import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.CommandRunners;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs the xtables-legacy variant of every iptables program (iptables-restore becomes
 * iptables-legacy-restore, and so on), for the same measurements on the legacy backend.
 */
final class LegacyIptables {

    private LegacyIptables() {
    }

    static CommandRunner wrap(CommandRunner inner) {
        return CommandRunners.rewriting(LegacyIptables::legacy, inner);
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
}
