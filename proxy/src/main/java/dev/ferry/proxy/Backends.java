package dev.ferry.proxy;

import dev.ferry.core.Backend;
import dev.ferry.core.IpFamily;
import dev.ferry.iptables.CommandRunner;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.iptables.IptablesConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
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

    /** Thrown for a mode that is known but not built yet. */
    static final class NotImplementedException extends RuntimeException {
        NotImplementedException(String message) {
            super(message);
        }
    }

    private Backends() {
    }

    /**
     * The backends for {@code mode}: IPv4, plus IPv6 when the cluster is dual-stack or IPv6
     * and the machine can program IPv6 (else that is logged and IPv4 runs alone).
     */
    static List<Labeled> forMode(ProxyMode mode, Set<IpFamily> families, IptablesConfig config,
                                 UserspaceSettings userspace, CommandRunner runner) {
        switch (mode) {
            case IPTABLES:
                return iptables(families, config, runner);
            case USERSPACE:
                return List.of(userspace.backend(runner));
            case IPVS:
                throw new NotImplementedException("--proxy-mode: " + mode + " is not implemented yet (use iptables)");
            default:
                throw new AssertionError(mode);
        }
    }

    /** Every backend of every mode, both families, for --cleanup (IPv6 only where usable). */
    static List<Labeled> forCleanup(IptablesConfig config, CommandRunner runner) {
        return iptables(Set.of(IpFamily.IPV4, IpFamily.IPV6), config, runner);
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
