package dev.ferry.proxy;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.iptables.IptablesConfig;
import dev.ferry.ipvs.IpvsConfig;
import dev.ferry.ipvs.netlink.IpvsTimeouts;
import dev.ferry.proxy.userspace.PortRange;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
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
@Command(name = "ferry-proxy", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
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

    @Option(names = "--proxy-mode", paramLabel = "MODE", defaultValue = "iptables", converter = ModeConverter.class,
            description = "Which proxy mode to use: iptables, ipvs or userspace. Default: ${DEFAULT-VALUE}.")
    ProxyMode mode;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "Path to a kubeconfig file with the API server and credentials.")
    Path kubeconfig;

    @Option(names = "--master", paramLabel = "URL",
            description = "The address of the API server (overrides the one in --kubeconfig).")
    String master;

    @Option(names = "--hostname-override", paramLabel = "NAME",
            description = "The name of this node (default: the machine's hostname, lower-cased).")
    String hostnameOverride;

    @Option(names = "--cluster-cidr", paramLabel = "CIDR", converter = CidrConverter.class, split = ",",
            description = "The pod network(s), one per IP family; traffic to a ClusterIP from outside it is masqueraded.")
    List<Cidr> clusterCidrs = new ArrayList<>();

    @Option(names = "--masquerade-all", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = BoolConverter.class, description = "Masquerade every packet sent to a ClusterIP.")
    boolean masqueradeAll;

    @Option(names = "--iptables-masquerade-bit", paramLabel = "BIT", defaultValue = "14", converter = MarkBitConverter.class,
            description = "The packet-mark bit that means \"masquerade this\" (0..31). Default: ${DEFAULT-VALUE}.")
    int masqueradeBit;

    @Option(names = "--iptables-sync-period", paramLabel = "DURATION", defaultValue = "30s", converter = DurationConverter.class,
            description = "The longest time between two syncs (e.g. 30s, 1m, 2h45m). Default: ${DEFAULT-VALUE}.")
    Duration syncPeriod;

    @Option(names = "--iptables-min-sync-period", paramLabel = "DURATION", defaultValue = "1s", converter = DurationConverter.class,
            description = "The shortest time between two syncs; changes in between are batched. Default: ${DEFAULT-VALUE}.")
    Duration minSyncPeriod;

    @Option(names = "--ipvs-scheduler", paramLabel = "NAME", defaultValue = "", converter = SchedulerConverter.class,
            description = "ipvs mode: the IPVS scheduler (rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh); empty means rr.")
    String ipvsScheduler;

    @Option(names = "--ipvs-sync-period", paramLabel = "DURATION", defaultValue = "30s", converter = DurationConverter.class,
            description = "ipvs mode: the longest time between two syncs. Default: ${DEFAULT-VALUE}.")
    Duration ipvsSyncPeriod;

    @Option(names = "--ipvs-min-sync-period", paramLabel = "DURATION", defaultValue = "0s", converter = DurationConverter.class,
            description = "ipvs mode: the shortest time between two syncs. Default: ${DEFAULT-VALUE}.")
    Duration ipvsMinSyncPeriod;

    @Option(names = "--ipvs-exclude-cidrs", paramLabel = "CIDR", converter = CidrConverter.class, split = ",",
            description = "ipvs mode: virtual servers in these CIDRs are never deleted by a sync or --cleanup.")
    List<Cidr> ipvsExcludeCidrs = new ArrayList<>();

    @Option(names = "--ipvs-strict-arp", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = BoolConverter.class, description = "ipvs mode: strict ARP (arp_ignore=1, arp_announce=2).")
    boolean ipvsStrictArp;

    @Option(names = "--ipvs-tcp-timeout", paramLabel = "DURATION", defaultValue = "0s", converter = DurationConverter.class,
            description = "ipvs mode: idle timeout of IPVS TCP connections; 0 leaves the kernel's. Default: ${DEFAULT-VALUE}.")
    Duration ipvsTcpTimeout;

    @Option(names = "--ipvs-tcpfin-timeout", paramLabel = "DURATION", defaultValue = "0s", converter = DurationConverter.class,
            description = "ipvs mode: timeout of IPVS TCP connections after a FIN; 0 leaves the kernel's. Default: ${DEFAULT-VALUE}.")
    Duration ipvsTcpFinTimeout;

    @Option(names = "--ipvs-udp-timeout", paramLabel = "DURATION", defaultValue = "0s", converter = DurationConverter.class,
            description = "ipvs mode: timeout of IPVS UDP flows; 0 leaves the kernel's. Default: ${DEFAULT-VALUE}.")
    Duration ipvsUdpTimeout;

    @Option(names = "--nodeport-addresses", paramLabel = "CIDR|primary", split = ",", converter = NodePortAddressConverter.class,
            description = "Which node addresses accept NodePort traffic: CIDRs, or \"primary\" for the node's primary IPs. Default: all.")
    List<String> nodePortAddresses = new ArrayList<>();

    @Option(names = "--iptables-localhost-nodeports", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            defaultValue = "true", converter = BoolConverter.class,
            description = "NodePorts answer on 127.0.0.1 too (IPv4). Default: ${DEFAULT-VALUE}.")
    boolean localhostNodePorts;

    @Option(names = "--healthz-bind-address", paramLabel = "IP:PORT", defaultValue = "0.0.0.0:10256",
            converter = BindAddressConverter.class,
            description = "Where the health check server listens; empty disables it. Default: ${DEFAULT-VALUE}.")
    BindAddress healthzBindAddress;

    @Option(names = "--metrics-bind-address", paramLabel = "IP:PORT", defaultValue = "127.0.0.1:10249",
            converter = BindAddressConverter.class,
            description = "Where the metrics server listens; empty disables it. Default: ${DEFAULT-VALUE}.")
    BindAddress metricsBindAddress;

    @Option(names = "--bind-address", paramLabel = "IP", defaultValue = "0.0.0.0", converter = IpConverter.class,
            description = "userspace mode: the address its listeners bind (0.0.0.0 for all). Default: ${DEFAULT-VALUE}.")
    InetAddress bindAddress;

    @Option(names = "--proxy-port-range", paramLabel = "RANGE", defaultValue = "", converter = PortRangeConverter.class,
            description = "userspace mode: host ports its listeners may take (begin-end, begin+offset or one port, "
                    + "inclusive); empty or 0-0: ports are picked by the kernel.")
    PortRange proxyPortRange;

    @Option(names = "--udp-timeout", paramLabel = "DURATION", defaultValue = "250ms", converter = DurationConverter.class,
            description = "userspace mode: how long an idle UDP session is kept. Default: ${DEFAULT-VALUE}.")
    Duration udpTimeout;

    @Option(names = "--conntrack-tcp-timeout-established", paramLabel = "DURATION", defaultValue = "24h",
            converter = DurationConverter.class,
            description = "Idle timeout of established TCP connections (userspace mode closes both sides; 0: none). "
                    + "Default: ${DEFAULT-VALUE}.")
    Duration tcpEstablishedTimeout;

    @Option(names = "--cleanup", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL", converter = BoolConverter.class,
            description = "Remove every rule this program installs, in every mode, and exit.")
    boolean cleanup;

    @Option(names = "--manifests", paramLabel = "DIR",
            description = "Read Services, EndpointSlices and Nodes from the *.yaml, *.yml and *.json files in DIR "
                    + "(watched for changes) instead of an API server.")
    Path manifests;

    @Option(names = "--once", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL", converter = BoolConverter.class,
            description = "Sync once, then exit: 0 if it worked, 1 if not.")
    boolean once;

    @Option(names = "--dry-run", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL", converter = BoolConverter.class,
            description = "Touch nothing: print each sync's iptables-restore input on standard output.")
    boolean dryRun;

    @Option(names = {"-v", "--v"}, paramLabel = "LEVEL", defaultValue = "0", converter = VerbosityConverter.class,
            description = "Log verbosity: 0-1 info, 2-3 debug, 4 and more trace. Default: ${DEFAULT-VALUE}.")
    int verbosity;

    @Option(names = "--logging-format", paramLabel = "FORMAT", defaultValue = "text", converter = LoggingFormatConverter.class,
            description = "text, or json: one JSON object per line (timestamp, level, loggerName, formattedMessage, "
                    + "kvpList, ...). Default: ${DEFAULT-VALUE}.")
    String loggingFormat;

    /** Flags whose value came from the config file, and how messages name them then. */
    private final Map<String, String> fromFile = new HashMap<>();

    /** A value that is wrong only in combination with others; the message names the flag. */
    static final class InvalidFlagException extends RuntimeException {
        InvalidFlagException(String message) {
            super(message);
        }
    }

    /** Marks {@code flag}'s value as taken from {@code field} of config file {@code source}, for messages. */
    void setFromFile(String flag, String field, String source) {
        fromFile.put(flag, "field " + field + " (config file " + source + ")");
    }

    /** How a message names the setting behind {@code flag}: the flag, or the config file's field it came from. */
    private String name(String flag) {
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
        if (ipvsSyncPeriod.isZero() || ipvsSyncPeriod.isNegative()) {
            throw new InvalidFlagException(name("--ipvs-sync-period") + ": must be greater than 0");
        }
        if (ipvsMinSyncPeriod.isNegative()) {
            throw new InvalidFlagException(name("--ipvs-min-sync-period") + ": must not be negative");
        }
        if (ipvsMinSyncPeriod.compareTo(ipvsSyncPeriod) > 0) {
            throw new InvalidFlagException(name("--ipvs-min-sync-period") + ": " + GoDuration.format(ipvsMinSyncPeriod)
                    + " exceeds " + name("--ipvs-sync-period") + " " + GoDuration.format(ipvsSyncPeriod));
        }
        checkIpvsTimeout(name("--ipvs-tcp-timeout"), ipvsTcpTimeout);
        checkIpvsTimeout(name("--ipvs-tcpfin-timeout"), ipvsTcpFinTimeout);
        checkIpvsTimeout(name("--ipvs-udp-timeout"), ipvsUdpTimeout);
        if (clusterCidrs.size() > 2 || (clusterCidrs.size() == 2
                && clusterCidrs.get(0).family() == clusterCidrs.get(1).family())) {
            throw new InvalidFlagException(name("--cluster-cidr") + ": at most one CIDR per IP family, got " + clusterCidrs);
        }
        if (hostnameOverride != null && hostnameOverride.isBlank() && hostnameOverride.length() > 0) {
            throw new InvalidFlagException(name("--hostname-override") + ": empty");
        }
        if (udpTimeout.isZero()) {
            throw new InvalidFlagException(name("--udp-timeout") + ": must be greater than 0");
        }
        if (manifests != null && !Files.isDirectory(manifests)) {
            throw new InvalidFlagException(name("--manifests") + ": " + manifests + " is not a directory");
        }
        // --write-config-to only writes the path: a kubeadm config names a file of the node it runs on
        if (kubeconfig != null && writeConfigTo == null && !Files.isReadable(kubeconfig)) {
            throw new InvalidFlagException(name("--kubeconfig") + ": cannot read " + kubeconfig);
        }
    }

    private static void checkIpvsTimeout(String flag, Duration d) {
        if (d.isNegative()) {
            throw new InvalidFlagException(flag + ": must be greater than or equal to 0");
        }
        if (d.getSeconds() > Integer.MAX_VALUE) {
            throw new InvalidFlagException(flag + ": " + GoDuration.format(d) + " is too long");
        }
    }

    /** The IPVS timeouts in whole seconds, truncated as upstream's int(d.Seconds()): 0 leaves the kernel's. */
    IpvsTimeouts ipvsTimeouts() {
        return IpvsTimeouts.ofSeconds(ipvsTcpTimeout.getSeconds(), ipvsTcpFinTimeout.getSeconds(),
                ipvsUdpTimeout.getSeconds());
    }

    /** The sync intervals of the chosen mode: --ipvs-* for ipvs, --iptables-* otherwise. */
    Duration modeSyncPeriod() {
        return mode == ProxyMode.IPVS ? ipvsSyncPeriod : syncPeriod;
    }

    Duration modeMinSyncPeriod() {
        return mode == ProxyMode.IPVS ? ipvsMinSyncPeriod : minSyncPeriod;
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

    // ---- value converters: each message says what is wrong; picocli adds the flag's name ----

    /** {@code parse}'s result, or its complaint as picocli's conversion error. */
    private static <T> T parsed(String value, java.util.function.Function<String, T> parse) {
        try {
            return parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    static final class ModeConverter implements ITypeConverter<ProxyMode> {
        @Override
        public ProxyMode convert(String value) {
            return parsed(value, ProxyMode::parse);
        }
    }

    /** Upstream's scheduler names (kubeproxyconfig IPVSSchedulerMethod); "" is rr. */
    static final class SchedulerConverter implements ITypeConverter<String> {
        static final List<String> KNOWN = List.of("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq", "mh");

        @Override
        public String convert(String value) {
            if (!value.isEmpty() && !KNOWN.contains(value)) {
                throw new TypeConversionException("\"" + value + "\" is not an IPVS scheduler (one of "
                        + String.join(", ", KNOWN) + ")");
            }
            return value;
        }
    }

    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parsed(value, GoDuration::parse);
        }
    }

    static final class CidrConverter implements ITypeConverter<Cidr> {
        @Override
        public Cidr convert(String value) {
            return parsed(value, Cidr::parse);
        }
    }

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

    /** Go's strconv.ParseBool, as upstream's boolean flags take it. */
    static final class BoolConverter implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            switch (value) {
                case "1": case "t": case "T": case "true": case "TRUE": case "True":
                    return true;
                case "0": case "f": case "F": case "false": case "FALSE": case "False":
                    return false;
                default:
                    throw new TypeConversionException("\"" + value + "\" is not a boolean (true or false)");
            }
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

    static final class IpConverter implements ITypeConverter<InetAddress> {
        @Override
        public InetAddress convert(String value) {
            return parsed(value, IpAddresses::parse);
        }
    }

    static final class PortRangeConverter implements ITypeConverter<PortRange> {
        @Override
        public PortRange convert(String value) {
            return parsed(value, PortRange::parse);
        }
    }

    /** The ipvs mode's settings from these flags on top of the shared iptables ones. */
    IpvsConfig ipvs(IptablesConfig iptables) {
        return new IpvsConfig(iptables, ipvsScheduler, ipvsExcludeCidrs, ipvsStrictArp, ipvsTimeouts());
    }

    /** The userspace mode's settings from these flags. */
    UserspaceSettings userspace() {
        return new UserspaceSettings(bindAddress, proxyPortRange, udpTimeout, tcpEstablishedTimeout);
    }

    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ProxyOptions.class.getPackage().getImplementationVersion();
            return new String[] {"ferry-proxy " + (v == null ? "(development build)" : v)};
        }
    }

    private static int integer(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("\"" + value + "\" is not an integer");
        }
    }
}
