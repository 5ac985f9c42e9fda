package dev.ferry.proxy;

import dev.ferry.core.Backend;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.CommandRunner;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.iptables.IptablesConfig;
import dev.ferry.ipvs.IpvsBackend;
import dev.ferry.ipvs.IpvsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Which backends run: one per IP family for the chosen --proxy-mode, and, for --cleanup,
 * every backend of every mode this program knows. Adding a mode means one more case here.
 */
final class Backends {

    private static final Logger log = LoggerFactory.getLogger(Backends.class);

    /**
     * A backend with the label its log lines carry, e.g. "iptables IPv4", and its count of failed
     * applies (iptables-restore runs) so far.
     */
    record Labeled(String label, IpFamily family, Backend backend, LongSupplier applyFailures, AutoCloseable resources) {

        /** A backend that holds nothing to close. */
        Labeled(String label, IpFamily family, Backend backend, LongSupplier applyFailures) {
            this(label, family, backend, applyFailures, () -> { });
        }
    }

    /** Thrown when the chosen mode cannot run on this machine (e.g. no IPVS in the kernel); startup fails. */
    static final class UnavailableException extends RuntimeException {
        UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private Backends() {
    }

    /**
     * The backends for {@code mode}: IPv4, plus IPv6 when the cluster is dual-stack or IPv6
     * and the machine can program IPv6 (else that is logged and IPv4 runs alone).
     */
    static List<Labeled> forMode(ProxyMode mode, Set<IpFamily> families, IptablesConfig config,
                                 UserspaceSettings userspace, IpvsConfig ipvs, CommandRunner runner) {
        switch (mode) {
            case IPTABLES:
                return iptables(families, config, runner);
            case USERSPACE:
                return List.of(userspace.backend(runner));
            case IPVS:
                return ipvs(families, ipvs, runner);
            default:
                throw new AssertionError(mode);
        }
    }

    /** Every backend of every mode, both families, for --cleanup (IPv6 only where usable). */
    static List<Labeled> forCleanup(IptablesConfig config, IpvsConfig ipvs, CommandRunner runner) {
        List<Labeled> out = new ArrayList<>(iptables(Set.of(IpFamily.IPV4, IpFamily.IPV6), config, runner));
        if (!runner.appliesChanges()) {
            log.info("dry run: IPVS services and kube-ipvs0 are left alone (they are changed over netlink)");
            return out;
        }
        for (IpFamily family : ipvsFamilies(Set.of(IpFamily.IPV4, IpFamily.IPV6), runner)) {
            String label = "ipvs " + familyName(family);
            try {
                IpvsBackend backend = IpvsBackend.forCleanup(family, ipvs, runner);
                out.add(new Labeled(label, family, backend, backend::failedSyncs, backend));
            } catch (IOException | RuntimeException e) {
                String why = "cannot open rtnetlink: " + e.getMessage();
                out.add(new Labeled(label, family, new Unusable(why), () -> 0));
            }
        }
        return out;
    }

    /**
     * One IPVS backend per family. No IPVS in the kernel fails startup, as upstream's kube-proxy exits when the
     * IPVS proxier cannot be created (it stopped falling back to iptables).
     */
    private static List<Labeled> ipvs(Set<IpFamily> families, IpvsConfig config, CommandRunner runner) {
        List<Labeled> out = new ArrayList<>();
        for (IpFamily family : ipvsFamilies(families, runner)) {
            IpvsBackend backend;
            try {
                backend = IpvsBackend.open(family, config, runner);
            } catch (IOException | RuntimeException e) {
                out.forEach(b -> closeQuietly(b.resources()));
                log.error("cannot use IPVS mode: {}", e.getMessage());
                throw new UnavailableException("--proxy-mode=ipvs: " + e.getMessage(), e);
            }
            out.add(new Labeled("ipvs " + familyName(family), family, backend, backend::failedSyncs, backend));
        }
        return out;
    }

    private static List<IpFamily> ipvsFamilies(Set<IpFamily> families, CommandRunner runner) {
        List<IpFamily> out = new ArrayList<>(List.of(IpFamily.IPV4));
        if (families.contains(IpFamily.IPV6)) {
            String why = unusable(runner, "ip6tables-save");
            if (why == null) {
                out.add(IpFamily.IPV6);
            } else {
                log.warn("ip6tables is not usable on this machine ({}); IPVS mode programs IPv4 only", why);
            }
        }
        return out;
    }

    private static String familyName(IpFamily family) {
        return family == IpFamily.IPV4 ? "IPv4" : "IPv6";
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.warn("closing failed: {}", e.toString());
        }
    }

    /** A cleanup that could not even start: reports why. */
    private record Unusable(String why) implements Backend {
        @Override
        public String mode() {
            return "ipvs";
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

    private static List<Labeled> iptables(Set<IpFamily> families, IptablesConfig config, CommandRunner runner) {
        List<Labeled> out = new ArrayList<>();
        out.add(iptables(IpFamily.IPV4, config, runner));
        if (families.contains(IpFamily.IPV6)) {
            String why = unusable(runner, "ip6tables-save");
            if (why == null) {
                out.add(iptables(IpFamily.IPV6, config, runner));
            } else {
                log.warn("ip6tables is not usable on this machine ({}); programming IPv4 only", why);
            }
        }
        return out;
    }

    private static Labeled iptables(IpFamily family, IptablesConfig config, CommandRunner runner) {
        IptablesBackend backend = new IptablesBackend(family, config, runner);
        return new Labeled("iptables " + (family == IpFamily.IPV4 ? "IPv4" : "IPv6"), family, backend,
                backend::restoreFailures);
    }

    /**
     * Null when {@code save} (iptables-save or ip6tables-save) can read the nat table, else why
     * not (not installed, no privileges). A dry-run runner answers every save, so it is usable.
     */
    static String unusable(CommandRunner runner, String save) {
        try {
            CommandRunner.Result r = runner.run(List.of(save, "-t", "nat"), null);
            return r.ok() ? null : save + " -t nat exited with " + r.exitCode() + ": " + r.stderr().strip();
        } catch (IOException e) {
            return e.getMessage();
        }
    }
}
