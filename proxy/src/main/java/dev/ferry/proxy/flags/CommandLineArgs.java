package dev.ferry.proxy.flags;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the proxy's command line does around picocli: flag names normalized as upstream's
 * (component-base's WordSepNormalizeFunc: "_" means "-"), the commands listed in --help, and
 * "did you mean" for a mistyped flag or command.
 */
public final class CommandLineArgs {

    /** The commands proxy.jar runs instead of the proxy when one comes first; "help" shows usage. */
    public static final List<String> COMMANDS = List.of("inspect", "trace", "help");

    private CommandLineArgs() {
    }

    /**
     * {@code args} with "_" replaced by "-" in every flag's name (the part before "="), as upstream's
     * parser normalizes flag names; values, and everything after "--", are left alone.
     */
    public static String[] normalized(String[] args) {
        String[] out = args.clone();
        for (int i = 0; i < out.length; i++) {
            String a = out[i];
            if (a.equals("--")) {
                break;
            }
            if (a.length() < 2 || a.charAt(0) != '-') {
                continue;
            }
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            if (name.indexOf('_') >= 0) {
                out[i] = name.replace('_', '-') + (eq < 0 ? "" : a.substring(eq));
            }
        }
        return out;
    }

    /**
     * Lists {@link #COMMANDS} in {@code cli}'s --help ("Commands:"). They are placeholders: proxy.jar
     * dispatches them before the proxy's flags are parsed; here they give --help its list and picocli
     * the names to suggest.
     */
    public static void listCommands(CommandLine cli) {
        cli.addSubcommand("inspect", placeholder("inspect",
                "What this node programs for its Services, and why (proxy.jar inspect --help)."));
        cli.addSubcommand("trace", placeholder("trace",
                "The path a packet takes through this node's rules (proxy.jar trace --help)."));
        cli.addSubcommand("help", placeholder("help", "This help, or a command's: help inspect, help trace."));
    }

    private static CommandLine placeholder(String name, String description) {
        CommandSpec spec = CommandSpec.create().name(name);
        spec.usageMessage().description(description);
        return new CommandLine(spec);
    }

    /**
     * The nearest flag or command to what {@code e} could not match, as "--hostname-override":
     * the visible name fewest edits away (a letter left out, added, changed or two swapped), at
     * most a third of the name's length, a name that starts with what was typed first on a tie; a
     * flag's value ("=5") is not part of the comparison. Hidden flags are not suggested. Empty when
     * nothing is close.
     */
    public static Optional<String> suggestion(ParameterException e) {
        if (!(e instanceof UnmatchedArgumentException u) || u.getUnmatched().isEmpty()) {
            return Optional.empty();
        }
        String typed = u.getUnmatched().get(0);
        int eq = typed.indexOf('=');
        String name = eq < 0 ? typed : typed.substring(0, eq);
        CommandSpec spec = e.getCommandLine().getCommandSpec();
        List<String> candidates = new ArrayList<>(spec.subcommands().keySet());
        for (OptionSpec o : spec.options()) {
            if (!o.hidden()) {
                candidates.addAll(List.of(o.names()));
            }
        }
        // in twice the edits, one less for a name that starts with what was typed (--prot: --proto, not --port)
        String best = null;
        int bestScore = 2 * (Math.max(1, name.length() / 3) + 1);
        for (String candidate : candidates) {
            int score = 2 * EditDistance.of(name, candidate) - (candidate.startsWith(name) ? 1 : 0);
            if (score < bestScore) {
                best = candidate;
                bestScore = score;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        OptionSpec option = spec.findOption(best);
        return Optional.of(option == null ? best : option.longestName());
    }
}
