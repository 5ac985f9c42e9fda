package dev.ferry.proxy.inspect;

import ch.qos.logback.classic.Level;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.proxy.flags.CommandLineArgs;
import dev.ferry.proxy.modes.ProxyModes;
import dev.ferry.proxy.source.SnapshotLoader;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code proxy.jar inspect ...} and {@code proxy.jar trace ...}: what this node programs for its
 * Services, why each endpoint is used or not, a Service's conntrack flows, and the path a packet
 * takes through the live rules. They read the node (iptables-save, the IPVS table, conntrack over
 * netlink) and, for inspect, the same Services, EndpointSlices and Node the proxy reads (the API
 * server or --manifests), loaded once. They change nothing.
 *
 * <p>Exit status: 0 printed, 1 something could not be read (or no such Service), 2 bad usage.
 */
public final class InspectCommands {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    /** Where the commands get the node and the cluster state; tests give fakes. */
    interface Env {
        NodeState node();

        /** The modes whose views read the node. */
        ProxyModes modes();

        ProxySnapshot load(ServiceCommands.SourceOptions source) throws Exception;
    }

    private InspectCommands() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** For argv whose first word is "inspect" or "trace", with this build's modes. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, ProxyModes.builtIn());
    }

    /** The same with {@code modes}, whose views read the node. */
    public static int run(String[] args, PrintStream out, PrintStream err, ProxyModes modes) {
        // the sources log at INFO; an operator reading a report wants only warnings on stderr
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(Level.WARN); // another SLF4J binding: leave it alone, as Logging does
        }
        return run(args, out, err, new Env() {
            private final NodeState node = new KernelNode();

            @Override
            public NodeState node() {
                return node;
            }

            @Override
            public ProxyModes modes() {
                return modes;
            }

            @Override
            public ProxySnapshot load(ServiceCommands.SourceOptions s) throws Exception {
                return SnapshotLoader.load(s.manifests, s.kubeconfig, s.master, s.hostname, s.timeout(),
                        problem -> err.println("warning: invalid input, skipped: " + problem));
            }
        });
    }

    static int run(String[] args, PrintStream out, PrintStream err, Env env) {
        Context ctx = new Context(out, err, env);
        CommandLine cli = new CommandLine(new Top())
                .addSubcommand(new CommandLine(new Inspect())
                        .addSubcommand("services", new ServiceCommands.Services(ctx))
                        .addSubcommand("service", new ServiceCommands.OneService(ctx))
                        .addSubcommand("conntrack", new ServiceCommands.ConntrackFlows(ctx)))
                .addSubcommand("trace", new TraceCommand(ctx));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            err.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return FAILED;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("error: " + e.getMessage());
            CommandLineArgs.suggestion(e).ifPresent(s -> err.println("Did you mean " + s + "?"));
            e.getCommandLine().usage(err);
            return USAGE;
        });
        int code = cli.execute(args);
        out.flush();
        return code;
    }

    record Context(PrintStream out, PrintStream err, Env env) {
    }

    /** -h/--help on every command (picocli's standard mixin would add a -V with no version to print). */
    static final class Help {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        boolean help;
    }

    /** A command that only groups others: run alone, it prints its usage and exits 2. */
    abstract static class UsageOnly implements Callable<Integer> {
        @Mixin
        Help help = new Help();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().usage(spec.commandLine().getErr());
            return USAGE;
        }
    }

    @Command(name = "proxy.jar", description = "Inspect what this node programs for Services, and trace packets.")
    static final class Top extends UsageOnly {
    }

    @Command(name = "inspect", description = "What this node programs for Services, and why.")
    static final class Inspect extends UsageOnly {
    }

    static NamespacedName parseName(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return new NamespacedName("default", text);
        }
        if (slash == 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("\"" + text + "\" is not NS/NAME");
        }
        return new NamespacedName(text.substring(0, slash), text.substring(slash + 1));
    }
}
