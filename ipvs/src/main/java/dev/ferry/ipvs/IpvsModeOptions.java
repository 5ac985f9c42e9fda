package dev.ferry.ipvs;

import dev.ferry.core.Backend;
import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.ipvs.netlink.IpvsTimeouts;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.FlagNames;
import dev.ferry.mode.GoDuration;
import dev.ferry.mode.InvalidFlagException;
import dev.ferry.mode.ModeContext;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.mode.ModeUnavailableException;
import dev.ferry.mode.SyncPeriods;
import dev.ferry.netfilter.Iptables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** ipvs mode's flags (upstream's --ipvs-*), and its backends: one per IP family, each with its netlink sockets. */
final class IpvsModeOptions implements ModeOptions {

    private static final Logger LOG = LoggerFactory.getLogger(IpvsModeOptions.class);

    static final String SCHEDULER = "--ipvs-scheduler";
    static final String SYNC_PERIOD = "--ipvs-sync-period";
    static final String MIN_SYNC_PERIOD = "--ipvs-min-sync-period";
    static final String EXCLUDE_CIDRS = "--ipvs-exclude-cidrs";
    static final String STRICT_ARP = "--ipvs-strict-arp";
    static final String TCP_TIMEOUT = "--ipvs-tcp-timeout";
    static final String TCP_FIN_TIMEOUT = "--ipvs-tcpfin-timeout";
    static final String UDP_TIMEOUT = "--ipvs-udp-timeout";

    @Option(names = SCHEDULER, paramLabel = "NAME", defaultValue = "", converter = SchedulerConverter.class,
            description = "ipvs mode: the IPVS scheduler (rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh); empty means rr.")
    String scheduler;

    @Option(names = SYNC_PERIOD, paramLabel = "DURATION", defaultValue = "30s",
            converter = FlagConverters.DurationConverter.class,
            description = "ipvs mode: the longest time between two syncs. Default: ${DEFAULT-VALUE}.")
    Duration syncPeriod;

    @Option(names = MIN_SYNC_PERIOD, paramLabel = "DURATION", defaultValue = "0s",
            converter = FlagConverters.DurationConverter.class,
            description = "ipvs mode: the shortest time between two syncs. Default: ${DEFAULT-VALUE}.")
    Duration minSyncPeriod;

    @Option(names = EXCLUDE_CIDRS, paramLabel = "CIDR", converter = FlagConverters.CidrConverter.class, split = ",",
            description = "ipvs mode: virtual servers in these CIDRs are never deleted by a sync (--cleanup flushes every virtual server, as upstream's does).")
    List<Cidr> excludeCidrs = new ArrayList<>();

    @Option(names = STRICT_ARP, arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = FlagConverters.BoolConverter.class, description = "ipvs mode: strict ARP (arp_ignore=1, arp_announce=2).")
    boolean strictArp;

    @Option(names = TCP_TIMEOUT, paramLabel = "DURATION", defaultValue = "0s", converter = FlagConverters.DurationConverter.class,
            description = "ipvs mode: idle timeout of IPVS TCP connections; 0 leaves the kernel's. Default: ${DEFAULT-VALUE}.")
    Duration tcpTimeout;

    @Option(names = TCP_FIN_TIMEOUT, paramLabel = "DURATION", defaultValue = "0s",
            converter = FlagConverters.DurationConverter.class,
            description = "ipvs mode: timeout of IPVS TCP connections after a FIN; 0 leaves the kernel's. Default: ${DEFAULT-VALUE}.")
    Duration tcpFinTimeout;

    @Option(names = UDP_TIMEOUT, paramLabel = "DURATION", defaultValue = "0s", converter = FlagConverters.DurationConverter.class,
            description = "ipvs mode: timeout of IPVS UDP flows; 0 leaves the kernel's. Default: ${DEFAULT-VALUE}.")
    Duration udpTimeout;

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

    @Override
    public void validate(FlagNames names) {
        if (syncPeriod.isZero() || syncPeriod.isNegative()) {
            throw new InvalidFlagException(names.of(SYNC_PERIOD) + ": must be greater than 0");
        }
        if (minSyncPeriod.isNegative()) {
            throw new InvalidFlagException(names.of(MIN_SYNC_PERIOD) + ": must not be negative");
        }
        if (minSyncPeriod.compareTo(syncPeriod) > 0) {
            throw new InvalidFlagException(names.of(MIN_SYNC_PERIOD) + ": " + GoDuration.format(minSyncPeriod)
                    + " exceeds " + names.of(SYNC_PERIOD) + " " + GoDuration.format(syncPeriod));
        }
        checkTimeout(names.of(TCP_TIMEOUT), tcpTimeout);
        checkTimeout(names.of(TCP_FIN_TIMEOUT), tcpFinTimeout);
        checkTimeout(names.of(UDP_TIMEOUT), udpTimeout);
    }

    private static void checkTimeout(String flag, Duration d) {
        if (d.isNegative()) {
            throw new InvalidFlagException(flag + ": must be greater than or equal to 0");
        }
        if (d.getSeconds() > Integer.MAX_VALUE) {
            throw new InvalidFlagException(flag + ": " + GoDuration.format(d) + " is too long");
        }
    }

    @Override
    public Optional<SyncPeriods> syncPeriods() {
        return Optional.of(new SyncPeriods(minSyncPeriod, syncPeriod));
    }

    /** The IPVS timeouts in whole seconds, truncated as upstream's int(d.Seconds()): 0 leaves the kernel's. */
    IpvsTimeouts timeouts() {
        return IpvsTimeouts.ofSeconds(tcpTimeout.getSeconds(), tcpFinTimeout.getSeconds(), udpTimeout.getSeconds());
    }

    IpvsConfig config(ModeContext context) {
        return new IpvsConfig(context.network(), scheduler, excludeCidrs, strictArp, timeouts(), context.leftovers());
    }

    /**
     * One IPVS backend per family. No IPVS in the kernel fails startup, as upstream's kube-proxy exits when the
     * IPVS proxier cannot be created (it stopped falling back to iptables).
     */
    @Override
    public ModeRuntime start(ModeContext context) throws ModeUnavailableException {
        IpvsConfig config = config(context);
        List<FamilyBackend> out = new ArrayList<>();
        for (IpFamily family : families(context.families(), context)) {
            IpvsBackend backend;
            try {
                backend = IpvsBackend.open(family, config, context.commands());
            } catch (IOException | RuntimeException e) {
                out.forEach(FamilyBackend::closeQuietly);
                LOG.error("cannot use IPVS mode: {}", e.getMessage());
                throw new ModeUnavailableException("--proxy-mode=ipvs: " + e.getMessage(), e);
            }
            out.add(FamilyBackend.of(IpvsMode.NAME, family, backend));
        }
        return new ModeRuntime(out, new IpvsMetrics());
    }

    /**
     * Both families' backends (IPv6 where ip6tables works): the first flushes the whole IPVS table, as upstream's
     * cleanup does; without IPVS in the kernel they still remove sets, chains, the link.
     */
    @Override
    public List<FamilyBackend> cleanup(ModeContext context) {
        if (!context.appliesChanges()) {
            LOG.info("dry run: IPVS services and kube-ipvs0 are left alone (they are changed over netlink)");
            return List.of();
        }
        IpvsConfig config = config(context);
        if (!excludeCidrs.isEmpty()) {
            LOG.warn("--cleanup flushes every IPVS virtual server, those in {} {} too, as upstream's kube-proxy does",
                    EXCLUDE_CIDRS, excludeCidrs);
        }
        List<FamilyBackend> out = new ArrayList<>();
        for (IpFamily family : families(Set.of(IpFamily.IPV4, IpFamily.IPV6), context)) {
            Backend backend;
            try {
                backend = IpvsBackend.forCleanup(family, config, context.commands());
            } catch (IOException | RuntimeException e) {
                backend = new Unusable("cannot open rtnetlink: " + e.getMessage());
            }
            out.add(FamilyBackend.of(IpvsMode.NAME, family, backend));
        }
        return out;
    }

    private static List<IpFamily> families(Set<IpFamily> families, ModeContext context) {
        List<IpFamily> out = new ArrayList<>(List.of(IpFamily.IPV4));
        if (families.contains(IpFamily.IPV6)) {
            String why = new Iptables(IpFamily.IPV6, context.commands()).unusable();
            if (why == null) {
                out.add(IpFamily.IPV6);
            } else {
                LOG.warn("ip6tables is not usable on this machine ({}); IPVS mode programs IPv4 only", why);
            }
        }
        return out;
    }

    /** A cleanup that could not even start: reports why. */
    private record Unusable(String why) implements Backend {
        @Override
        public String mode() {
            return IpvsMode.NAME;
        }

        @Override
        public SyncResult sync(ProxySnapshot snapshot) {
            return SyncResult.failure(true, Duration.ZERO, why);
        }

        @Override
        public SyncResult cleanup() {
            return SyncResult.failure(true, Duration.ZERO, why);
        }
    }
}
