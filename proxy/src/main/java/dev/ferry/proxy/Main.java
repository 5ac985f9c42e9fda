package dev.ferry.proxy;

import dev.ferry.core.SyncGuard;
import dev.ferry.core.SyncResult;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.InvalidFlagException;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.mode.ModeUnavailableException;
import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.SyncPeriods;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.CommandRunners;
import dev.ferry.proxy.config.ConfigFileException;
import dev.ferry.proxy.config.ConfigFileWatch;
import dev.ferry.proxy.config.ConfigFlags;
import dev.ferry.proxy.config.EffectiveConfig;
import dev.ferry.proxy.config.KubeProxyConfigFile;
import dev.ferry.proxy.conntrack.ConntrackReconciler;
import dev.ferry.proxy.events.NodeEvents;
import dev.ferry.proxy.flags.CommandLineArgs;
import dev.ferry.proxy.inspect.InspectCommands;
import dev.ferry.proxy.modes.ProxyModes;
import dev.ferry.proxy.modes.UnregisteredModeLeftovers;
import dev.ferry.proxy.node.NodeSetup;
import dev.ferry.proxy.source.ApiClients;
import dev.ferry.proxy.source.ApiSource;
import dev.ferry.proxy.source.FileSource;
import dev.ferry.proxy.source.InputProblems;
import dev.ferry.proxy.source.Source;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * Entry point of proxy.jar. Exit status: 0 done (or stopped by SIGTERM/SIGINT), 1 a sync or
 * cleanup failed (--once, --cleanup), the proxy could not start, or the --config file changed
 * (as upstream: the DaemonSet restarts it with the new file), 2 a bad flag or config file.
 * "inspect" and "trace" as the first argument run the inspection tools instead, and "help" shows the
 * usage (of the proxy, or of a command).
 *
 * <p>Order: flags, then --config (its fields fill the options no flag set), checks, logging,
 * then --write-config-to, --cleanup, or the proxy: the node's conntrack settings, the mode (or,
 * for --init-only, exit), the OOM score, the source and the syncs.
 */
public final class Main {

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    /** How long --once waits for the initial state before giving up. */
    static final Duration ONCE_SYNC_TIMEOUT = Duration.ofSeconds(60);

    /** How often the --config file is read to see whether it changed. */
    static final Duration CONFIG_WATCH_INTERVAL = Duration.ofSeconds(2);

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private Main() {
    }

    public static void main(String[] args) {
        CountDownLatch stop = new CountDownLatch(1);
        Signals.onTermination(stop::countDown);
        System.exit(run(args, System.out, System.err, stop));
    }

    /**
     * Runs the proxy in this JVM until it is done or {@code stop} opens.
     *
     * @param out where --help and --dry-run print
     * @param err where flag errors are printed (logs go to standard error through logback)
     */
    public static int run(String[] args, PrintStream out, PrintStream err, CountDownLatch stop) {
        return run(args, out, err, stop, ProxyModes.builtIn());
    }

    /** {@link #run(String[], PrintStream, PrintStream, CountDownLatch)} with these modes (tests give wrapped ones). */
    static int run(String[] args, PrintStream out, PrintStream err, CountDownLatch stop, ProxyModes modes) {
        if (args.length > 0 && (args[0].equals("inspect") || args[0].equals("trace"))) {
            return InspectCommands.run(args, out, err, modes); // the node-side debugging tools, not the proxy
        }
        ProxyOptions options = new ProxyOptions(modes);
        CommandLine cli = options.commandLine();
        if (args.length > 0 && args[0].equals("help")) {
            return help(args, cli, out, err, modes);
        }
        KubeProxyConfigFile file = null;
        List<ConfigFlags.Applied> fromFile = List.of();
        try {
            ParseResult parsed = options.parse(args);
            if (cli.isUsageHelpRequested()) {
                cli.usage(out);
                return OK;
            }
            if (options.versionRequested()) {
                cli.printVersionHelp(out);
                return OK;
            }
            if (parsed.hasSubcommand()) {
                throw new InvalidFlagException("the command " + parsed.subcommand().commandSpec().name()
                        + " must come first: proxy.jar " + parsed.subcommand().commandSpec().name() + " ...");
            }
            if (options.configFile != null) {
                file = KubeProxyConfigFile.load(options.configFile, modes);
                fromFile = applyConfigFile(file, options, cli, parsed);
            }
            options.validate();
        } catch (CommandLine.ParameterException e) {
            err.println("error: " + e.getMessage());
            CommandLineArgs.suggestion(e).ifPresent(s -> err.println("Did you mean " + s + "?"));
            err.println("Run with --help to see the flags.");
            return USAGE;
        } catch (InvalidFlagException | ConfigFileException e) {
            err.println("error: " + e.getMessage());
            err.println("Run with --help to see the flags.");
            return USAGE;
        }
        try {
            Logging.configure(options.logging, options.klog.output(), options.dryRun);
        } catch (IllegalStateException e) {
            err.println("error: " + e.getMessage());
            return FAILED;
        }
        options.warnings().forEach(log::warn);
        if (file != null) {
            logConfigFile(file, fromFile);
        }
        if (options.writeConfigTo != null) {
            return writeConfig(cli, options.writeConfigTo, modes, err);
        }
        CommandRunner commands = options.dryRun ? CommandRunners.dryRun(out) : CommandRunners.process();
        PrintStream dryRunOutput = options.dryRun ? out : null;
        if (options.cleanup) {
            return cleanup(options, commands, dryRunOutput);
        }
        ProxyMode mode = options.mode();
        if (options.dryRun && mode.dryRunUnavailable().isPresent()) {
            err.println("error: --dry-run: not available with --proxy-mode=" + mode.name() + " ("
                    + mode.dryRunUnavailable().get() + ")");
            return USAGE;
        }
        // upstream's node-level settings: conntrack before the mode starts, the OOM score once it runs
        NodeSetup node = NodeSetup.thisProcess(!options.dryRun, options::name);
        NodeSetup.Result conntrack = node.conntrack(options.node.conntrack());
        ModeRuntime runtime;
        try {
            runtime = options.options(mode).start(options.context(mode, commands, dryRunOutput));
        } catch (ModeUnavailableException e) {
            err.println("error: " + e.getMessage());
            return FAILED;
        }
        for (ProxyMode other : options.modes().others(mode)) {
            // what the other modes left that this one cannot fold into its own rules (their chains it can)
            options.options(other).removeLeftovers(options.context(other, commands, dryRunOutput));
        }
        UnregisteredModeLeftovers.of(options.modes()).remove(options.dryRun); // never fatal, as upstream's
        if (options.node.initOnly()) {
            return initialized(runtime, mode, conntrack);
        }
        node.oomScore(options.node.oomScoreAdj());
        String hostname = options.hostname();
        log.info("ferry proxy starting: mode {}, node {}, source {}{}", mode.name(), hostname,
                options.manifests != null ? "manifests in " + options.manifests : "API server",
                options.dryRun ? ", dry run" : "");
        options.localTraffic.logSettings(log, options.clusterCidrs, options.clusterFamilies());
        Function<dev.ferry.core.ChangeTracker, Source> sourceFactory;
        InputProblems problems = InputProblems.logging();
        KubernetesClient api = null;
        if (options.manifests != null) {
            sourceFactory = tracker -> new FileSource(options.manifests, tracker, problems, FileSource.DEFAULT_INTERVAL);
        } else {
            try {
                KubernetesClient client = ApiClients.connect(options.kubeconfig, options.master);
                api = client;
                sourceFactory = tracker -> new ApiSource(client, tracker, options.apiClient.configSyncPeriod());
            } catch (RuntimeException e) {
                log.error("cannot connect to the API server: {}", e.getMessage());
                runtime.close();
                return FAILED;
            }
        }
        SyncPeriods periods = options.syncPeriods();
        try (ProxyDaemon daemon = new ProxyDaemon(hostname, problems, mode.name(), runtime, sourceFactory,
                periods.min(), periods.max())) {
            InetAddress primary = options.primaryAddressOverride();
            if (primary != null) {
                daemon.tracker().overridePrimaryAddress(primary); // --bind-address, as upstream's node IP override
            }
            NodePodCidrs podCidrs = options.localTraffic.watchPodCidrs(daemon.tracker(), stop::countDown);
            daemon.startSource();
            NodeEvents events = api == null || options.once || options.dryRun ? null : new NodeEvents(api, hostname);
            if (events != null) {
                events.recordStartingInBackground(); // upstream's "birth cry"
            }
            AtomicBoolean cannotListen = new AtomicBoolean();
            if (!options.once && !options.dryRun) {
                daemon.serveHealthCheckNodePorts(options.nodePortAddresses);
                // /healthz, /livez, /metrics and /proxyMode; a server that cannot listen is a Warning on the Node
                daemon.serveHttp(options.healthzBindAddress, options.metricsBindAddress, (reason, error) -> {
                    if (events != null) {
                        events.recordWarning(reason, error);
                    }
                }, !options.servers.bindAddressHardFail() ? null : () -> {
                    cannotListen.set(true);
                    stop.countDown();
                });
            }
            if (!options.dryRun && mode.cleansConntrack()) {
                // the kernel NATs the mode's traffic (iptables' DNAT, IPVS with net/ipv4/vs/conntrack=1): UDP flows go stale
                daemon.cleanConntrack(ConntrackReconciler.overNetlink());
            }
            if (!podCidrs.awaitAllocated(NodePodCidrs.TIMEOUT, stop)) {
                return FAILED; // as upstream: no rules without the node's podCIDRs
            }
            if (options.once) {
                if (!daemon.awaitSourceSynced(ONCE_SYNC_TIMEOUT)) {
                    log.error("the initial state did not arrive within {} s; not syncing", ONCE_SYNC_TIMEOUT.toSeconds());
                    return FAILED;
                }
                return daemon.syncOnce() ? OK : FAILED;
            }
            AtomicBoolean configChanged = new AtomicBoolean();
            try (ConfigFileWatch watch = watchConfig(options.configFile, file, () -> {
                configChanged.set(true);
                stop.countDown();
            })) {
                if (daemon.startSyncing(() -> stop.getCount() == 0)) {
                    stop.await();
                }
            }
            log.info("stopping; the rules stay in place");
            // as upstream: a changed config file, or NodeCIDR's podCIDRs, ends the process, and so does a server
            // that cannot listen with --bind-address-hard-fail
            return configChanged.get() || podCidrs.changed() || cannotListen.get() ? FAILED : OK;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OK;
        } finally {
            out.flush();
        }
    }

    /**
     * {@code proxy.jar help [COMMAND]}: this usage, or a command's; an unknown command is a usage
     * error with the nearest one suggested.
     */
    private static int help(String[] args, CommandLine cli, PrintStream out, PrintStream err, ProxyModes modes) {
        if (args.length == 1 || args[1].equals("help")) {
            cli.usage(out);
            return OK;
        }
        if (args[1].equals("inspect") || args[1].equals("trace")) {
            return InspectCommands.run(new String[] {args[1], "--help"}, out, err, modes);
        }
        err.println("error: help: unknown command \"" + args[1] + "\" (commands: "
                + String.join(", ", CommandLineArgs.COMMANDS) + ")");
        try {
            cli.parseArgs(args[1]);
        } catch (CommandLine.ParameterException e) {
            CommandLineArgs.suggestion(e).ifPresent(s -> err.println("Did you mean " + s + "?"));
        }
        return USAGE;
    }

    /** The file's fields fill the options whose flags were not given; messages then name the field. */
    private static List<ConfigFlags.Applied> applyConfigFile(KubeProxyConfigFile file, ProxyOptions options,
            CommandLine cli, ParseResult parsed) throws ConfigFileException {
        List<ConfigFlags.Applied> applied = ConfigFlags.apply(file, cli.getCommandSpec(), parsed);
        for (ConfigFlags.Applied a : applied) {
            if (!a.overriddenByFlag()) {
                options.setFromFile(a.setting().flag(), a.setting().field(), file.source());
            }
        }
        return applied;
    }

    /** Watches the --config file, if any, as upstream does; null when there is none. */
    private static ConfigFileWatch watchConfig(Path path, KubeProxyConfigFile file, Runnable onChange) {
        return file == null ? null : ConfigFileWatch.start(path, file, CONFIG_WATCH_INTERVAL, onChange);
    }

    /** One line for the file, one per flag that overrides it (debug), one warning per ignored field that is set. */
    private static void logConfigFile(KubeProxyConfigFile file, List<ConfigFlags.Applied> applied) {
        long overridden = applied.stream().filter(ConfigFlags.Applied::overriddenByFlag).count();
        log.info("config file {}: {} fields set, {} of them overridden by flags", file.source(), applied.size(), overridden);
        for (ConfigFlags.Applied a : applied) {
            if (a.overriddenByFlag()) {
                log.debug("config file {}: field {} is overridden by {}", file.source(), a.setting().field(),
                        a.setting().flag());
            }
        }
        for (KubeProxyConfigFile.Ignored i : file.ignored()) {
            log.warn("config file {}: field {} ({}) is ignored: {}", file.source(), i.field(), i.value(), i.why());
        }
    }

    /** --write-config-to: the effective configuration as a KubeProxyConfiguration; 0 when written. */
    private static int writeConfig(CommandLine cli, Path file, ProxyModes modes, PrintStream err) {
        try {
            EffectiveConfig.write(cli.getCommandSpec(), file, modes);
        } catch (UncheckedIOException e) {
            err.println("error: --write-config-to: " + e.getMessage());
            return FAILED;
        }
        log.info("wrote the configuration to {}", file);
        return OK;
    }

    /**
     * --init-only, as upstream: what needs full privileges is done (the conntrack settings, the
     * mode's start-up kernel settings, the other modes' leftovers); exit without syncing and without
     * the OOM score. 0 when every value was set.
     */
    private static int initialized(ModeRuntime runtime, ProxyMode mode, NodeSetup.Result conntrack) {
        runtime.close();
        log.info("initialized (--init-only): conntrack settings {}, {} mode started and stopped; exiting",
                conntrack.ok() ? "set" : "not all set (see above)", mode.name());
        return conntrack.ok() ? OK : FAILED;
    }

    /** --cleanup: every backend of every mode removes what it owns; 0 when all worked. */
    private static int cleanup(ProxyOptions options, CommandRunner commands, PrintStream dryRunOutput) {
        boolean allOk = true;
        for (ProxyMode mode : options.modes().all()) {
            for (FamilyBackend b : options.options(mode).cleanup(options.context(mode, commands, dryRunOutput))) {
                SyncResult r = SyncGuard.cleanup(b.label(), b.backend());
                if (r.ok()) {
                    log.info("{} cleanup done in {} ms", b.label(), r.duration().toMillis());
                } else {
                    log.error("{} cleanup failed: {}", b.label(), r.error());
                    allOk = false;
                }
                b.closeQuietly();
            }
        }
        allOk &= UnregisteredModeLeftovers.of(options.modes()).remove(options.dryRun);
        return allOk ? OK : FAILED;
    }
}
