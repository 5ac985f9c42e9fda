package dev.ferry.proxy.node;

import dev.ferry.mode.FlagNames;
import dev.ferry.netfilter.KernelSettingException;
import dev.ferry.netfilter.Sysctls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Applies upstream's node-level settings, once, at start: the conntrack sysctls before the mode
 * starts ({@link #conntrack}), the OOM score after ({@link #oomScore}), as kube-proxy v1.34 does
 * (cmd/kube-proxy/app/server_linux.go, conntrack.go; pkg/util/oom). Each value is read first and
 * written only when it differs (upstream writes whenever it differs, lower or higher); one info
 * line per value changed, one warning per value that cannot be set, naming it and why.
 *
 * <p>Where upstream stops (a conntrack sysctl it cannot write ends kube-proxy with an error), this
 * warns and goes on: the proxy works with the kernel's values, and the warning says what to set
 * to leave the value alone. The OOM score's failure upstream is a verbosity-2 line; here it is a
 * warning too.
 *
 * <p>In a dry run nothing is written: each value that would change is logged as such.
 * Runs on the caller's (main) thread; keeps no state.
 */
public final class NodeSetup {

    private static final Logger LOG = LoggerFactory.getLogger(NodeSetup.class);

    static final String CONNTRACK_MODULE = "/sys/module/nf_conntrack/parameters";
    static final String ONLINE_CPUS = "/sys/devices/system/cpu/online";
    static final String OOM_SCORE_ADJ = "oom_score_adj";

    /** How many values were changed (in a dry run: would be), and how many could not be set. */
    public record Result(int changed, int failed) {
        public boolean ok() {
            return failed == 0;
        }

        Result plus(Result other) {
            return new Result(changed + other.changed, failed + other.failed);
        }
    }

    private static final Result UNCHANGED = new Result(0, 0);
    private static final Result CHANGED = new Result(1, 0);
    private static final Result FAILED = new Result(0, 1);

    /** One value to make so. */
    private record Change(Sysctls layer, String label, String name, long value, String why, String leaveAlone,
                          boolean upstreamStops) {
    }

    private final Sysctls procSys;
    private final Sysctls conntrackModule;
    private final Sysctls process;
    private final int cpus;
    private final boolean applies;
    private final FlagNames names;

    /**
     * @param procSys         the sysctls (/proc/sys)
     * @param conntrackModule nf_conntrack's module parameters (/sys/module/nf_conntrack/parameters)
     * @param process         this process's /proc/PID directory (for oom_score_adj)
     * @param cpus            the machine's CPUs
     * @param applies         false for a dry run: read, log, write nothing
     * @param names           how messages name a flag (or the config field it came from)
     */
    NodeSetup(Sysctls procSys, Sysctls conntrackModule, Sysctls process, int cpus, boolean applies, FlagNames names) {
        this.procSys = Objects.requireNonNull(procSys, "procSys");
        this.conntrackModule = Objects.requireNonNull(conntrackModule, "conntrackModule");
        this.process = Objects.requireNonNull(process, "process");
        if (cpus < 1) {
            throw new IllegalArgumentException("cpus " + cpus);
        }
        this.cpus = cpus;
        this.applies = applies;
        this.names = Objects.requireNonNull(names, "names");
    }

    /** This process on this machine; {@code applies} false for --dry-run. */
    public static NodeSetup thisProcess(boolean applies, FlagNames names) {
        return new NodeSetup(Sysctls.procSys(), Sysctls.files(Path.of(CONNTRACK_MODULE), "/sys"),
                Sysctls.files(Path.of("/proc/self"), "/proc"), onlineCpus(Path.of(ONLINE_CPUS)), applies, names);
    }

    /**
     * nf_conntrack_max (and the hashsize, raised to a quarter of it when smaller), then the TCP and
     * UDP timeouts and be-liberal, each as {@code settings} asks.
     */
    public Result conntrack(ConntrackSettings settings) {
        Result r = UNCHANGED;
        long max = settings.max(cpus);
        if (max > 0) {
            String leaveAlone = names.of("--conntrack-max-per-core") + "=0 leaves it alone";
            Result m = ensure(new Change(procSys, "sysctl " + ConntrackSettings.MAX, ConntrackSettings.MAX, max,
                    maxWhy(settings, max), leaveAlone, true));
            r = r.plus(m);
            if (m.ok()) { // upstream sizes the hash table only once the limit is set
                r = r.plus(hashsize(max, leaveAlone));
            }
        }
        for (ConntrackSettings.Target t : settings.others()) {
            String flag = names.of(t.flag());
            String leaveAlone = flag + (t.flag().equals("--conntrack-tcp-be-liberal") ? "=false" : "=0") + " leaves it alone";
            r = r.plus(ensure(new Change(procSys, "sysctl " + t.sysctl(), t.sysctl(), t.value(), flag, leaveAlone, true)));
        }
        return r;
    }

    /** /proc/self/oom_score_adj, as upstream sets it once the proxy is set up (never with --init-only). */
    public Result oomScore(int adj) {
        return ensure(new Change(process, "oom_score_adj", OOM_SCORE_ADJ, adj, names.of("--oom-score-adj"),
                "setting " + names.of("--oom-score-adj") + " to the current value leaves it alone", false));
    }

    private String maxWhy(ConntrackSettings s, long max) {
        String perCore = names.of("--conntrack-max-per-core") + " " + s.maxPerCore() + " × " + cpus
                + (cpus == 1 ? " CPU" : " CPUs");
        return (long) s.maxPerCore() * cpus == max ? perCore
                : perCore + " is below " + names.of("--conntrack-min") + " " + s.min();
    }

    /** Upstream's rule: a hash table smaller than a quarter of the limit is raised to it; never lowered. */
    private Result hashsize(long max, String leaveAlone) {
        String label = CONNTRACK_MODULE + "/" + ConntrackSettings.HASHSIZE;
        OptionalLong now;
        try {
            now = conntrackModule.read(ConntrackSettings.HASHSIZE);
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}; the conntrack hash table keeps its size", label, e.getMessage());
            return FAILED;
        }
        if (now.isEmpty()) {
            LOG.warn("cannot read {}: it does not exist (the nf_conntrack module is not loaded); the conntrack hash "
                    + "table keeps its size", label);
            return FAILED;
        }
        if (now.getAsLong() >= max / 4) {
            LOG.debug("{} is {}, at least a quarter of nf_conntrack_max {}: left alone", label, now.getAsLong(), max);
            return UNCHANGED;
        }
        return ensure(new Change(conntrackModule, label, ConntrackSettings.HASHSIZE, max / 4,
                "a quarter of nf_conntrack_max " + max, leaveAlone, true));
    }

    private Result ensure(Change c) {
        OptionalLong now;
        try {
            now = c.layer().read(c.name());
        } catch (IOException e) {
            LOG.debug("cannot read {}: {}", c.label(), e.getMessage());
            now = OptionalLong.empty();
        }
        if (now.isPresent() && now.getAsLong() == c.value()) {
            LOG.debug("{} is already {} ({})", c.label(), c.value(), c.why());
            return UNCHANGED;
        }
        String was = now.isPresent() ? Long.toString(now.getAsLong()) : "unknown";
        if (!applies) {
            LOG.info("dry run: would set {}={} (now {}): {}", c.label(), c.value(), was, c.why());
            return CHANGED;
        }
        try {
            c.layer().write(c.name(), c.value());
        } catch (IOException e) {
            boolean stops = c.upstreamStops() && !(e instanceof KernelSettingException k
                    && k.reason() == KernelSettingException.Reason.READ_ONLY_FILE_SYSTEM && c.layer() == conntrackModule);
            LOG.warn("{}{}; {}{}", e.getMessage(), now.isPresent() ? "; it stays " + was : "", c.leaveAlone(),
                    stops ? " (kube-proxy stops on this; ferry goes on)" : "");
            return FAILED;
        }
        LOG.info("set {}={} (was {}): {}", c.label(), c.value(), was, c.why());
        return CHANGED;
    }

    /**
     * The machine's CPUs, online ones, from {@code file} (sysfs' list such as "0-3,6"), as
     * upstream counts them for nf_conntrack_max: the node's, not this process's cpuset or quota.
     * When it cannot be read, the CPUs the JVM may use.
     */
    static int onlineCpus(Path file) {
        try {
            return parseCpuList(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IOException | IllegalArgumentException e) {
            int jvm = Runtime.getRuntime().availableProcessors();
            LOG.debug("cannot count the online CPUs in {} ({}); using the JVM's {}", file, e.getMessage(), jvm);
            return jvm;
        }
    }

    /** The number of CPUs in a kernel CPU list ("0-3,6,8-9" is 7). */
    static int parseCpuList(String list) {
        int n = 0;
        for (String part : list.strip().split(",")) {
            int dash = part.indexOf('-');
            try {
                int first = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
                int last = dash < 0 ? first : Integer.parseInt(part.substring(dash + 1));
                if (first < 0 || last < first) {
                    throw new IllegalArgumentException("bad CPU range \"" + part + "\"");
                }
                n += last - first + 1;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad CPU list \"" + list.strip() + "\"", e);
            }
        }
        return n;
    }
}
