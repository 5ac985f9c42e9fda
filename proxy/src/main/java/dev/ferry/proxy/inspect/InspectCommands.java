package dev.ferry.proxy.inspect;

import ch.qos.logback.classic.Level;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortState;
import dev.ferry.iptables.IptablesDump;
import dev.ferry.proxy.SnapshotLoader;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
        LiveNode node();

        ProxySnapshot load(SourceOptions source) throws Exception;
    }

    private InspectCommands() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** For argv whose first word is "inspect" or "trace". */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        // the sources log at INFO; an operator reading a report wants only warnings on stderr
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
        return run(args, out, err, new Env() {
            private final LiveNode node = new KernelNode();

            @Override
            public LiveNode node() {
                return node;
            }

            @Override
            public ProxySnapshot load(SourceOptions s) throws Exception {
                return SnapshotLoader.load(s.manifests, s.kubeconfig, s.master, s.hostname, s.timeout(),
                        problem -> err.println("warning: invalid input, skipped: " + problem));
            }
        });
    }

    static int run(String[] args, PrintStream out, PrintStream err, Env env) {
        Context ctx = new Context(out, err, env);
        CommandLine cli = new CommandLine(new Top())
                .addSubcommand(new CommandLine(new Inspect())
                        .addSubcommand("services", new Services(ctx))
                        .addSubcommand("service", new OneService(ctx))
                        .addSubcommand("conntrack", new ConntrackFlows(ctx)))
                .addSubcommand("trace", new Trace(ctx));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            err.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return FAILED;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("error: " + e.getMessage());
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

    @Command(name = "proxy.jar", description = "Inspect what this node programs for Services, and trace packets.")
    static final class Top implements Callable<Integer> {
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

    @Command(name = "inspect", description = "What this node programs for Services, and why.")
    static final class Inspect implements Callable<Integer> {
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

    /** Where Services, EndpointSlices and the Node come from, and which node and mode: as the proxy's flags. */
    static final class SourceOptions {
        @Option(names = "--manifests", paramLabel = "DIR", description = "Read Services, EndpointSlices and Nodes from YAML/JSON files in DIR instead of an API server.")
        Path manifests;

        @Option(names = "--kubeconfig", paramLabel = "FILE", description = "Kubeconfig of the API server.")
        Path kubeconfig;

        @Option(names = "--master", paramLabel = "URL", description = "API server address (overrides the kubeconfig's).")
        String master;

        @Option(names = "--hostname-override", paramLabel = "NAME", description = "This node's name (default: the hostname).")
        String hostname;

        @Option(names = "--proxy-mode", paramLabel = "MODE", description = "iptables, ipvs or userspace (default: detected on this node).")
        String mode;

        @Option(names = "--source-timeout", paramLabel = "SECONDS", defaultValue = "30",
                description = "How long to wait for the API server or the files (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        Duration timeout() {
            return Duration.ofSeconds(Math.max(1, timeoutSeconds));
        }
    }

    /** Loads what both inspect reports need: the mode, the snapshot and the node's programmed state. */
    abstract static class InspectBase implements Callable<Integer> {
        @Mixin
        Help help = new Help();

        final Context ctx;

        @Mixin
        SourceOptions source = new SourceOptions();

        InspectBase(Context ctx) {
            this.ctx = ctx;
        }

        Mode.Detected mode() throws IOException {
            if (source.mode != null) {
                return new Mode.Detected(Mode.parse(source.mode), "--proxy-mode");
            }
            return Mode.detect(ctx.env().node());
        }

        ProxySnapshot snapshot() throws Exception {
            return ctx.env().load(source);
        }

        void header(ProxySnapshot snapshot, Mode.Detected mode) {
            ctx.out().println("node " + snapshot.node().name()
                    + (snapshot.node().zone().isEmpty() ? "" : " (zone " + snapshot.node().zone() + ")")
                    + ", mode " + mode.mode().flagValue() + " (" + mode.how() + ")");
            ctx.out().println();
        }
    }

    @Command(name = "services", description = "One line per service port: addresses, policies, endpoints in/out, programmed or not.")
    static final class Services extends InspectBase {
        Services(Context ctx) {
            super(ctx);
        }

        @Override
        public Integer call() throws Exception {
            Mode.Detected mode = mode();
            ProxySnapshot snapshot = snapshot();
            header(snapshot, mode);
            ctx.out().print(ServiceReports.services(snapshot, new Programmed(ctx.env().node(), mode.mode())));
            return OK;
        }
    }

    @Command(name = "service", description = "One Service: its rules or virtual servers, and every endpoint with why it is in or out.")
    static final class OneService extends InspectBase {
        @Parameters(paramLabel = "NS/NAME", description = "The Service (namespace default when only NAME is given).")
        String service;

        OneService(Context ctx) {
            super(ctx);
        }

        @Override
        public Integer call() throws Exception {
            NamespacedName name = parseName(service);
            Mode.Detected mode = mode();
            ProxySnapshot snapshot = snapshot();
            String report = ServiceReports.service(snapshot, name, new Programmed(ctx.env().node(), mode.mode()));
            if (report == null) {
                ctx.err().println("error: Service " + name + " is not served on node " + snapshot.node().name()
                        + " (no such Service, or it has no ports, or it is headless)");
                return FAILED;
            }
            header(snapshot, mode);
            ctx.out().print(report);
            return OK;
        }
    }

    @Command(name = "conntrack", description = "The conntrack flows of one Service (read over netlink); STALE marks flows to a gone endpoint.")
    static final class ConntrackFlows extends InspectBase {
        @Parameters(paramLabel = "NS/NAME", description = "The Service (namespace default when only NAME is given).")
        String service;

        ConntrackFlows(Context ctx) {
            super(ctx);
        }

        @Override
        public Integer call() throws Exception {
            NamespacedName name = parseName(service);
            ProxySnapshot snapshot = snapshot();
            List<ServicePortState> ports = ServiceReports.ports(snapshot, name);
            if (ports.isEmpty()) {
                ctx.err().println("error: Service " + name + " is not served on node " + snapshot.node().name());
                return FAILED;
            }
            LiveNode node = ctx.env().node();
            List<InetAddress> addresses = node.localAddresses();
            for (IpFamily family : IpFamily.values()) {
                if (ports.stream().anyMatch(p -> p.port().clusterIP(family).isPresent())) {
                    ctx.out().print(ConntrackReport.render(ports, family, node.conntrack(family), addresses));
                }
            }
            return OK;
        }
    }

    @Command(name = "trace", description = "Walk the live rules (iptables-save, or the IPVS table) for a new connection's first packet.")
    static final class Trace implements Callable<Integer> {
        @Mixin
        Help help = new Help();

        private final Context ctx;

        @Option(names = "--src", required = true, paramLabel = "IP", description = "Source address (a pod, an outside client, or one of the node's).")
        String src;

        @Option(names = "--dst", required = true, paramLabel = "IP", description = "Destination address (a cluster IP, external IP, LB IP or node address).")
        String dst;

        @Option(names = "--port", required = true, paramLabel = "N", description = "Destination port.")
        int port;

        @Option(names = "--proto", defaultValue = "tcp", paramLabel = "PROTO", description = "tcp, udp or sctp (default: ${DEFAULT-VALUE}).")
        String proto;

        @Option(names = "--in-iface", paramLabel = "IF", description = "Interface the packet arrives on (default: the route back to --src).")
        String inIface;

        @Option(names = "--proxy-mode", paramLabel = "MODE", description = "iptables, ipvs or userspace (default: detected on this node).")
        String mode;

        @Option(names = "--iptables-masquerade-bit", defaultValue = "14", paramLabel = "BIT",
                description = "The proxy's masquerade mark bit (default: ${DEFAULT-VALUE}).")
        int masqueradeBit;

        Trace(Context ctx) {
            this.ctx = ctx;
        }

        @Override
        public Integer call() throws Exception {
            TraceRequest req;
            try {
                if (!IpAddresses.isValid(src) || !IpAddresses.isValid(dst)) {
                    throw new IllegalArgumentException("--src and --dst must be IP addresses: " + src + ", " + dst);
                }
                if (masqueradeBit < 0 || masqueradeBit > 31) {
                    throw new IllegalArgumentException("--iptables-masquerade-bit " + masqueradeBit + " out of range 0..31");
                }
                req = new TraceRequest(IpAddresses.parse(src), IpAddresses.parse(dst), port,
                        Protocol.parse(proto.toUpperCase(Locale.ROOT)), inIface);
            } catch (IllegalArgumentException e) {
                ctx.err().println("error: " + e.getMessage());
                return USAGE;
            }
            LiveNode node = ctx.env().node();
            Mode.Detected detected = mode != null ? new Mode.Detected(Mode.parse(mode), "--proxy-mode") : Mode.detect(node);
            ctx.out().println("mode " + detected.mode().flagValue() + " (" + detected.how() + ")");
            List<InetAddress> local = node.localAddresses();
            if (detected.mode() == Mode.IPVS) {
                IptablesDump nat = null;
                try {
                    nat = IptablesDump.parse(node.iptablesSave(req.family()));
                } catch (IOException | IllegalArgumentException e) {
                    ctx.err().println("warning: cannot read the nat table, masquerade unknown: " + e.getMessage());
                }
                Map<String, java.util.Set<String>> sets = Map.of();
                try {
                    sets = IpvsTrace.parseIpsetSave(node.ipsetSave());
                } catch (IOException e) {
                    ctx.err().println("warning: cannot read the ipsets: " + e.getMessage());
                }
                ctx.out().print(IpvsTrace.render(req, node.ipvsTable(), nat, sets, local));
                return OK;
            }
            IptablesDump dump = IptablesDump.parse(node.iptablesSave(req.family()));
            ctx.out().print(IptablesTrace.render(req, dump, local, 1L << masqueradeBit,
                    ip -> node.routeInterface(ip).orElse(null)));
            return OK;
        }
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
