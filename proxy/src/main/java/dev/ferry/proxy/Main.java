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
import dev.ferry.proxy.inspect.InspectCommands;
import dev.ferry.proxy.modes.ProxyModes;
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
 * "inspect" and "trace" as the first argument run the inspection tools instead.
 *
 * <p>Order: flags, then --config (its fields fill the options no flag set), checks, logging,
 * then --write-config-to, --cleanup, or the proxy.
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
        KubeProxyConfigFile file = null;
        List<ConfigFlags.Applied> fromFile = List.of();
        try {
            ParseResult parsed = cli.parseArgs(args);
            if (cli.isUsageHelpRequested()) {
                cli.usage(out);
                return OK;
            }
            if (cli.isVersionHelpRequested()) {
                cli.printVersionHelp(out);
                return OK;
            }
            if (options.configFile != null) {
                file = KubeProxyConfigFile.load(options.configFile, modes);
                fromFile = applyConfigFile(file, options, cli, parsed);
            }
            options.validate();
        } catch (CommandLine.ParameterException | InvalidFlagException | ConfigFileException e) {
            err.println("error: " + e.getMessage());
            err.println("Run with --help to see the flags.");
            return USAGE;
        }
        Logging.configure(options.verbosity, options.loggingFormat);
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
        KubernetesClient api = null;
        if (options.manifests == null) { // before the node is touched: without an API server there is nothing to do
            try {
                api = ApiClients.connect(options.kubeconfig, options.master);
            } catch (RuntimeException e) {
                err.println("error: " + (e instanceof IllegalArgumentException ? "" : "cannot connect to the API server: ")
                        + e.getMessage());
                return FAILED;
            }
        }
        ModeRuntime runtime;
        try {
            runtime = options.options(mode).start(options.context(mode, commands, dryRunOutput));
        } catch (ModeUnavailableException e) {
            err.println("error: " + e.getMessage());
            if (api != null) {
                api.close();
            }
            return FAILED;
        }
        for (ProxyMode other : options.modes().others(mode)) {
            // what the other modes left that this one cannot fold into its own rules (their chains it can)
            options.options(other).removeLeftovers(options.context(other, commands, dryRunOutput));
        }
        String hostname = options.hostname();
        log.info("ferry proxy starting: mode {}, node {}, source {}{}", mode.name(), hostname,
                options.manifests != null ? "manifests in " + options.manifests : "API server",
                options.dryRun ? ", dry run" : "");
        InputProblems problems = InputProblems.logging();
        KubernetesClient client = api;
        Function<dev.ferry.core.ChangeTracker, Source> sourceFactory = client == null
                ? tracker -> new FileSource(options.manifests, tracker, problems, FileSource.DEFAULT_INTERVAL)
                : tracker -> new ApiSource(client, tracker);
        SyncPeriods periods = options.syncPeriods();
        try (ProxyDaemon daemon = new ProxyDaemon(hostname, problems, mode.name(), runtime, sourceFactory,
                periods.min(), periods.max())) {
            daemon.startSource();
            NodeEvents events = api == null || options.once || options.dryRun ? null : new NodeEvents(api, hostname);
            if (events != null) {
                events.recordStartingInBackground(); // upstream's "birth cry"
            }
            if (!options.once && !options.dryRun) {
                daemon.serveHealthCheckNodePorts(options.nodePortAddresses);
                // /healthz, /livez, /metrics and /proxyMode; a server that cannot listen is a Warning on the Node
                daemon.serveHttp(options.healthzBindAddress, options.metricsBindAddress, (reason, error) -> {
                    if (events != null) {
                        events.recordWarning(reason, error);
                    }
                });
            }
            if (!options.dryRun && mode.cleansConntrack()) {
                // the kernel NATs the mode's traffic (iptables' DNAT, IPVS with net/ipv4/vs/conntrack=1): UDP flows go stale
                daemon.cleanConntrack(ConntrackReconciler.overNetlink());
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
            return configChanged.get() ? FAILED : OK; // as upstream: a changed config file ends the process
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OK;
        } finally {
            out.flush();
        }
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
        return allOk ? OK : FAILED;
    }
}
