package dev.ferry.proxy;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.GoDuration;
import dev.ferry.mode.InvalidFlagException;
import dev.ferry.mode.ModeContext;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.SyncPeriods;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.NetworkSettings;
import dev.ferry.proxy.flags.ApiClientFlags;
import dev.ferry.proxy.flags.CommandLineArgs;
import dev.ferry.proxy.flags.FeatureGateFlags;
import dev.ferry.proxy.flags.FeatureGates;
import dev.ferry.proxy.flags.FlagGroup;
import dev.ferry.proxy.flags.HelpFlags;
import dev.ferry.proxy.flags.KlogFlags;
import dev.ferry.proxy.flags.LoggingFlags;
import dev.ferry.proxy.flags.RemovedFlags;
import dev.ferry.proxy.flags.ServerFlags;
import dev.ferry.proxy.modes.ProxyModes;
import dev.ferry.proxy.node.NodeOptions;
import dev.ferry.proxy.source.Hostnames;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;

import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The command line, with upstream kube-proxy's flag names, defaults and syntax: {@code --flag=value}
 * or {@code --flag value}; booleans alone or as {@code --flag=false}; lists comma-separated;
 * durations in Go's syntax ("1s", "500ms", "1m30s"). Values are checked as they are parsed, and
 * {@link #validate()} checks what depends on several flags; both fail naming the flag.
 */
@Command(name = "ferry-proxy", sortOptions = false, usageHelpWidth = 110, abbreviateSynopsis = true,
        versionProvider = HelpFlags.Version.class,
        description = "A drop-in replacement for kube-proxy: programs this node so that traffic to a Service "
                + "reaches its endpoints.%n")
final class ProxyOptions {

    @Option(names = "--config", paramLabel = "FILE",
            description = "A KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1, YAML or JSON, or a ConfigMap "
                    + "holding it under config.conf); flags given on the command line override its fields.")
    Path configFile;

    @Option(names = "--write-config-to", paramLabel = "FILE",
            description = "Write the effective configuration (config file, flags, defaults) to FILE as a "
                    + "KubeProxyConfiguration, then exit.")
    Path writeConfigTo;

    @Option(names = "--proxy-mode", paramLabel = "MODE", defaultValue = "iptables", converter = ModeNameConverter.class,
            description = "Which proxy mode to use (see \"Proxy modes\" below). Default: ${DEFAULT-VALUE}.")
    String modeName;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "Path to a kubeconfig file with the API server and credentials.")
    Path kubeconfig;

    @Option(names = "--master", paramLabel = "URL",
            description = "The address of the API server (overrides the one in --kubeconfig).")
    String master;

    @Option(names = "--hostname-override", paramLabel = "NAME",
            description = "The name of this node (default: the machine's hostname, lower-cased).")
    String hostnameOverride;

    @Option(names = "--cluster-cidr", paramLabel = "CIDR", converter = FlagConverters.CidrConverter.class, split = ",",
            description = "The pod network(s), one per IP family; with --detect-local-mode=ClusterCIDR, traffic to a "
                    + "ClusterIP from outside it is masqueraded.")
    List<Cidr> clusterCidrs = new ArrayList<>();

    @Mixin
    final LocalTrafficOptions localTraffic = new LocalTrafficOptions();

    @Option(names = "--masquerade-all", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = FlagConverters.BoolConverter.class, description = "Masquerade every packet sent to a ClusterIP.")
    boolean masqueradeAll;

    @Option(names = "--iptables-masquerade-bit", paramLabel = "BIT", defaultValue = "14", converter = MarkBitConverter.class,
            description = "The packet-mark bit that means \"masquerade this\" (0..31). Default: ${DEFAULT-VALUE}.")
    int masqueradeBit;

    @Option(names = "--iptables-sync-period", paramLabel = "DURATION", defaultValue = "30s", converter = FlagConverters.DurationConverter.class,
            description = "The longest time between two syncs (e.g. 30s, 1m, 2h45m). Default: ${DEFAULT-VALUE}.")
    Duration syncPeriod;

    @Option(names = "--iptables-min-sync-period", paramLabel = "DURATION", defaultValue = "1s", converter = FlagConverters.DurationConverter.class,
            description = "The shortest time between two syncs; changes in between are batched. Default: ${DEFAULT-VALUE}.")
    Duration minSyncPeriod;

    @Option(names = "--nodeport-addresses", paramLabel = "CIDR|primary", split = ",", converter = NodePortAddressConverter.class,
            description = "Which node addresses accept NodePort traffic: CIDRs, or \"primary\" for the node's primary IPs. Default: all.")
    List<String> nodePortAddresses = new ArrayList<>();

    @Option(names = HEALTHZ_BIND_ADDRESS, paramLabel = "IP[:PORT]", defaultValue = "0.0.0.0:10256",
            converter = BindAddress.HealthzConverter.class,
            description = "Where the health check server listens (an IP alone: port 10256); empty disables it. "
                    + "Default: ${DEFAULT-VALUE}.")
    BindAddress healthzBindAddress;

    @Option(names = METRICS_BIND_ADDRESS, paramLabel = "IP[:PORT]", defaultValue = "127.0.0.1:10249",
            converter = BindAddress.MetricsConverter.class,
            description = "Where the metrics server listens (an IP alone: port 10249); empty disables it. "
                    + "Default: ${DEFAULT-VALUE}.")
    BindAddress metricsBindAddress;

    @Option(names = "--cleanup", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL", converter = FlagConverters.BoolConverter.class,
            description = "Remove every rule this program installs, in every mode, and exit.")
    boolean cleanup;

    @Option(names = "--manifests", paramLabel = "DIR",
            description = "Read Services, EndpointSlices and Nodes from the *.yaml, *.yml and *.json files in DIR "
                    + "(watched for changes) instead of an API server.")
    Path manifests;

    @Option(names = "--once", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL", converter = FlagConverters.BoolConverter.class,
            description = "Sync once, then exit: 0 if it worked, 1 if not.")
    boolean once;

    @Option(names = "--dry-run", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL", converter = FlagConverters.BoolConverter.class,
            description = "Touch nothing: print each sync's iptables-restore input on standard output.")
    boolean dryRun;

    static final String HEALTHZ_BIND_ADDRESS = "--healthz-bind-address";
    static final String METRICS_BIND_ADDRESS = "--metrics-bind-address";
    static final int HEALTHZ_PORT = 10256;
    static final int METRICS_PORT = 10249;
    /** Upstream's node primary IP override; declared by userspace mode, which also binds its listeners to it. */
    static final String BIND_ADDRESS = "--bind-address";

    // the other flag groups, each a mixin of its own topic
    final ApiClientFlags apiClient = new ApiClientFlags();
    final ServerFlags servers = new ServerFlags();
    final LoggingFlags logging = new LoggingFlags();
    final FeatureGateFlags featureGates = new FeatureGateFlags();
    final KlogFlags klog = new KlogFlags();
    final RemovedFlags removed = new RemovedFlags();
    final HelpFlags help = new HelpFlags();

    /** Upstream's node-level flags: conntrack sizing and timeouts, the OOM score, --init-only. */
    final NodeOptions node = new NodeOptions();

    /** Flags whose value came from the config file, and how messages name them then. */
    private final Map<String, String> fromFile = new HashMap<>();
    /** What validate() found to warn about the deprecated port flags. */
    private final List<String> portWarnings = new ArrayList<>();

    private final ProxyModes modes;
    /** Every mode's flags (picocli mixins, named by mode), whichever mode runs: upstream accepts them all. */
    private final Map<String, ModeOptions> modeOptions = new LinkedHashMap<>();
    private CommandLine cli; // built once, by commandLine()
    private ParseResult parsed; // set by parse()

    ProxyOptions(ProxyModes modes) {
        this.modes = modes;
        for (ProxyMode m : modes.all()) {
            modeOptions.put(m.name(), m.newOptions());
        }
    }

    ProxyOptions() {
        this(ProxyModes.builtIn());
    }

    ProxyModes modes() {
        return modes;
    }

    /**
     * The command line of these options: the shared flags, the other groups', then each mode's (as
     * mixins), the hidden compatibility flags, the commands, and a "Proxy modes" section in --help.
     * A flag given twice takes its last value, as upstream's flag parser.
     */
    CommandLine commandLine() {
        if (cli == null) {
            cli = newCommandLine();
        }
        return cli;
    }

    /**
     * Parses {@code args} as upstream's flag parser reads them: "_" and "-" are the same in a flag's name.
     *
     * @throws CommandLine.ParameterException naming the flag
     */
    ParseResult parse(String... args) {
        CommandLine c = commandLine();
        parsed = c.parseArgs(CommandLineArgs.normalized(args));
        return parsed;
    }

    /** Whether {@code flag} was given on the command line. */
    boolean given(String flag) {
        return parsed != null && parsed.hasMatchedOption(flag);
    }

    private List<FlagGroup> groups() {
        return List.of(apiClient, servers, logging, featureGates, klog, removed);
    }

    private CommandLine newCommandLine() {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == ModeNameConverter.class ? type.cast(new ModeNameConverter(modes))
                        : CommandLine.defaultFactory().create(type);
            }
        };
        CommandLine cli = new CommandLine(this, factory).setOverwrittenOptionsAllowed(true);
        cli.addMixin("node", node);
        cli.addMixin("api", apiClient);
        cli.addMixin("servers", servers);
        cli.addMixin("logging", logging);
        cli.addMixin("featureGates", featureGates);
        modeOptions.forEach(cli::addMixin);
        cli.addMixin("klog", klog); // hidden, as the removed flags below
        cli.addMixin("removed", removed);
        cli.addMixin("help", help); // after every mode's flags, as the last lines of --help
        CommandLineArgs.listCommands(cli);
        StringBuilder section = new StringBuilder("\nProxy modes (--proxy-mode, or the config file's mode):\n");
        for (ProxyMode m : modes.all()) {
            section.append(String.format(Locale.ROOT, "  %-10s %s%n", m.name(), m.summary()));
        }
        cli.getHelpSectionMap().put("proxyModes", help -> section.toString());
        List<String> keys = new ArrayList<>(cli.getHelpSectionKeys());
        keys.add(keys.indexOf(CommandLine.Model.UsageMessageSpec.SECTION_KEY_FOOTER), "proxyModes");
        cli.setHelpSectionKeys(keys);
        return cli;
    }

    /** Marks {@code flag}'s value as taken from {@code field} of config file {@code source}, for messages. */
    void setFromFile(String flag, String field, String source) {
        fromFile.put(flag, "field " + field + " (config file " + source + ")");
    }

    /** How a message names the setting behind {@code flag}: the flag, or the config file's field it came from. */
    String name(String flag) {
        return fromFile.getOrDefault(flag, flag);
    }

    /** Checks what one flag's converter cannot, and applies the deprecated port flags. */
    void validate() {
        FeatureGates gates = featureGates.gates();
        for (FlagGroup g : groups()) {
            g.validate(this::name, gates);
        }
        applyDeprecatedPorts();
        if (syncPeriod.isZero()) {
            throw new InvalidFlagException(name("--iptables-sync-period") + ": must be greater than 0");
        }
        if (minSyncPeriod.compareTo(syncPeriod) > 0) {
            throw new InvalidFlagException(name("--iptables-min-sync-period") + ": " + GoDuration.format(minSyncPeriod)
                    + " exceeds " + name("--iptables-sync-period") + " " + GoDuration.format(syncPeriod));
        }
        for (ModeOptions m : modeOptions.values()) { // every mode's flags, whichever mode runs, as upstream
            m.validate(this::name);
        }
        localTraffic.validate(this::name);
        if (clusterCidrs.size() > 2 || (clusterCidrs.size() == 2
                && clusterCidrs.get(0).family() == clusterCidrs.get(1).family())) {
            throw new InvalidFlagException(name("--cluster-cidr") + ": at most one CIDR per IP family, got " + clusterCidrs);
        }
        if (hostnameOverride != null && hostnameOverride.isBlank() && hostnameOverride.length() > 0) {
            throw new InvalidFlagException(name("--hostname-override") + ": empty");
        }
        if (manifests != null && !Files.isDirectory(manifests)) {
            throw new InvalidFlagException(name("--manifests") + ": " + manifests + " is not a directory");
        }
        // --write-config-to only writes the path: a kubeadm config names a file of the node it runs on
        if (kubeconfig != null && writeConfigTo == null && !Files.isReadable(kubeconfig)) {
            throw new InvalidFlagException(name("--kubeconfig") + ": cannot read " + kubeconfig);
        }
    }

    /**
     * --healthz-port and --metrics-port, as upstream applies them: only without --config and
     * --write-config-to; 0 turns the server off, another port completes an address given without one.
     */
    private void applyDeprecatedPorts() {
        portWarnings.clear();
        boolean apply = configFile == null && writeConfigTo == null;
        healthzBindAddress = DeprecatedPorts.apply(ServerFlags.HEALTHZ_PORT, servers.healthzPort(), HEALTHZ_BIND_ADDRESS,
                healthzBindAddress, lastValue(HEALTHZ_BIND_ADDRESS), apply, portWarnings);
        metricsBindAddress = DeprecatedPorts.apply(ServerFlags.METRICS_PORT, servers.metricsPort(), METRICS_BIND_ADDRESS,
                metricsBindAddress, lastValue(METRICS_BIND_ADDRESS), apply, portWarnings);
    }

    /** The text last given to {@code flag} on the command line; null when it was not given. */
    private String lastValue(String flag) {
        if (!given(flag)) {
            return null;
        }
        List<String> values = parsed.matchedOption(flag).stringValues();
        return values.isEmpty() ? null : values.get(values.size() - 1);
    }

    /** One warning per flag that is accepted but not acted on as upstream acts on it (after {@link #validate()}). */
    List<String> warnings() {
        List<String> out = new ArrayList<>(portWarnings);
        for (FlagGroup g : groups()) {
            out.addAll(g.warnings(this::name, this::given));
        }
        return out;
    }

    /** Whether --version asks for the version (upstream's values; a bad one throws, naming the flag). */
    boolean versionRequested() {
        return help.versionRequested();
    }

    /** --bind-address as upstream reads it: the node's primary IP, overriding the Node's; null when unspecified (0.0.0.0, ::). */
    InetAddress primaryAddressOverride() {
        CommandLine.Model.OptionSpec o = commandLine().getCommandSpec().findOption(BIND_ADDRESS);
        return o != null && o.getValue() instanceof InetAddress a && !a.isAnyLocalAddress() ? a : null;
    }

    /** This node's name: the override or the machine's hostname, trimmed and lower-cased as upstream. */
    String hostname() {
        String name = hostnameOverride == null || hostnameOverride.isBlank() ? Hostnames.local() : hostnameOverride;
        return name.trim().toLowerCase(Locale.ROOT);
    }

    /** The IP families the cluster CIDRs name; IPv4 alone when none are given. */
    Set<IpFamily> clusterFamilies() {
        Set<IpFamily> out = EnumSet.noneOf(IpFamily.class);
        clusterCidrs.forEach(c -> out.add(c.family()));
        if (out.isEmpty()) {
            out.add(IpFamily.IPV4);
        }
        return out;
    }

    /** The chosen mode (valid after {@link #validate()}). */
    ProxyMode mode() {
        return modes.named(modeName);
    }

    /** The flags of {@code mode} as parsed. */
    ModeOptions options(ProxyMode mode) {
        ModeOptions o = modeOptions.get(mode.name());
        if (o == null) {
            throw new IllegalArgumentException("no such mode: " + mode.name());
        }
        return o;
    }

    /** The chosen mode's sync intervals: its own (ipvs mode's --ipvs-*), else --iptables-min-sync-period and --iptables-sync-period. */
    SyncPeriods syncPeriods() {
        return options(mode()).syncPeriods().orElse(new SyncPeriods(minSyncPeriod, syncPeriod));
    }

    /** The node's network settings every mode shares. */
    NetworkSettings network() {
        return new NetworkSettings(masqueradeBit, masqueradeAll, localTraffic.detection(clusterCidrs), nodePortAddresses);
    }

    /**
     * What a mode starts with: {@code commands} runs (or, for --dry-run, prints) the iptables
     * programs; {@code dryRunOutput} is where a dry run prints, null when the node is programmed.
     */
    ModeContext context(ProxyMode mode, CommandRunner commands, PrintStream dryRunOutput) {
        return new ModeContext(clusterFamilies(), network(), commands, modes.leftoversFor(mode), node.tcpEstablishedTimeout(),
                dryRunOutput);
    }

    // ---- value converters: each message says what is wrong; picocli adds the flag's name ----

    static final class NodePortAddressConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (value.equals("primary")) {
                return value;
            }
            if (value.indexOf('/') < 0) {
                throw new TypeConversionException("\"" + value + "\" is neither a CIDR nor \"primary\"");
            }
            try {
                return Cidr.parse(value).toString();
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("\"" + value + "\" is neither a CIDR nor \"primary\"");
            }
        }
    }

    /** A --proxy-mode value (or the config file's mode) must name a registered mode; made by {@link #commandLine()}. */
    static final class ModeNameConverter implements ITypeConverter<String> {
        private final ProxyModes modes;

        ModeNameConverter(ProxyModes modes) {
            this.modes = modes;
        }

        @Override
        public String convert(String value) {
            return FlagConverters.parsed(value, v -> modes.named(v).name());
        }
    }

    static final class MarkBitConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int bit = integer(value);
            if (bit < 0 || bit > 31) {
                throw new TypeConversionException("\"" + value + "\" is out of range 0..31");
            }
            return bit;
        }
    }

    private static int integer(String value) {
        return FlagConverters.integer(value);
    }
}
