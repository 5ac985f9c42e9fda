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
import dev.ferry.proxy.modes.ProxyModes;
import dev.ferry.proxy.node.NodeOptions;
import dev.ferry.proxy.source.Hostnames;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.io.PrintStream;
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
@Command(name = "ferry-proxy", sortOptions = false, usageHelpWidth = 110,
        versionProvider = ProxyOptions.Version.class,
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

    @Option(names = "--healthz-bind-address", paramLabel = "IP:PORT", defaultValue = "0.0.0.0:10256",
            converter = BindAddressConverter.class,
            description = "Where the health check server listens; empty disables it. Default: ${DEFAULT-VALUE}.")
    BindAddress healthzBindAddress;

    @Option(names = "--metrics-bind-address", paramLabel = "IP:PORT", defaultValue = "127.0.0.1:10249",
            converter = BindAddressConverter.class,
            description = "Where the metrics server listens; empty disables it. Default: ${DEFAULT-VALUE}.")
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

    @Option(names = {"-v", "--v"}, paramLabel = "LEVEL", defaultValue = "0", converter = VerbosityConverter.class,
            description = "Log verbosity: 0-1 info, 2-3 debug, 4 and more trace. Default: ${DEFAULT-VALUE}.")
    int verbosity;

    @Option(names = "--logging-format", paramLabel = "FORMAT", defaultValue = "text", converter = LoggingFormatConverter.class,
            description = "text, or json: one JSON object per line (timestamp, level, loggerName, formattedMessage, "
                    + "kvpList, ...). Default: ${DEFAULT-VALUE}.")
    String loggingFormat;

    /** Upstream's node-level flags: conntrack sizing and timeouts, the OOM score, --init-only. */
    final NodeOptions node = new NodeOptions();

    /** Flags whose value came from the config file, and how messages name them then. */
    private final Map<String, String> fromFile = new HashMap<>();

    private final ProxyModes modes;
    /** Every mode's flags (picocli mixins, named by mode), whichever mode runs: upstream accepts them all. */
    private final Map<String, ModeOptions> modeOptions = new LinkedHashMap<>();

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
     * The command line of these options: the shared flags, then each mode's (as mixins), and a
     * "Proxy modes" section in --help. A flag given twice takes its last value, as upstream's flag parser.
     */
    CommandLine commandLine() {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == ModeNameConverter.class ? type.cast(new ModeNameConverter(modes))
                        : CommandLine.defaultFactory().create(type);
            }
        };
        CommandLine cli = new CommandLine(this, factory).setOverwrittenOptionsAllowed(true);
        cli.addMixin("node", node);
        modeOptions.forEach(cli::addMixin);
        cli.addMixin("help", new HelpOptions()); // after every mode's flags, as the last lines of --help
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

    /** Checks what one flag's converter cannot. */
    void validate() {
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

    /** Upstream's --logging-format values that we have: text and json. */
    static final class LoggingFormatConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!value.equals("text") && !value.equals("json")) {
                throw new TypeConversionException("\"" + value + "\" is not a logging format (text or json)");
            }
            return value;
        }
    }

    static final class VerbosityConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int level = integer(value);
            if (level < 0) {
                throw new TypeConversionException("\"" + value + "\" is negative");
            }
            return level;
        }
    }

    static final class BindAddressConverter implements ITypeConverter<BindAddress> {
        @Override
        public BindAddress convert(String value) {
            if (value.isEmpty()) {
                return null; // disabled
            }
            try {
                return BindAddress.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** -h/--help and -V/--version, picocli's standard ones, listed last. */
    static final class HelpOptions {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Option(names = {"-V", "--version"}, versionHelp = true, description = "Print version information and exit.")
        boolean version;
    }

    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ProxyOptions.class.getPackage().getImplementationVersion();
            return new String[] {"ferry-proxy " + (v == null ? "(development build)" : v)};
        }
    }

    private static int integer(String value) {
        return FlagConverters.integer(value);
    }
}
