package dev.ferry.core;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The one place where "no exception escapes a sync" is enforced: whatever a backend or the sync
 * loop throws becomes a failed result, the rules in place stay, and the runner retries. Backends
 * have no catch-all of their own; they reset their state for a retry in a {@code finally}.
 *
 * <p>Caught: every RuntimeException and Error (a bug, or a big snapshot that ran out of memory:
 * the process keeps serving with the rules it has rather than dying mid-sync).
 */
public final class SyncGuard {

    private static final Logger LOG = LoggerFactory.getLogger(SyncGuard.class);

    private SyncGuard() {
    }

    /**
     * {@code backend.sync(snapshot)}; an exception is logged and becomes a failed full sync naming
     * it (the backend makes its next sync a full one).
     *
     * @param label how logs and the error name the backend, e.g. "iptables IPv4"
     */
    public static SyncResult sync(String label, Backend backend, ProxySnapshot snapshot) {
        return guarded(label, () -> backend.sync(snapshot), "sync");
    }

    /** {@code backend.sync(snapshot)}, named by its mode. */
    public static SyncResult sync(Backend backend, ProxySnapshot snapshot) {
        return sync(backend.mode(), backend, snapshot);
    }

    /** {@code backend.cleanup()}, guarded the same way. */
    public static SyncResult cleanup(String label, Backend backend) {
        return guarded(label, backend::cleanup, "cleanup");
    }

    /** {@code backend.cleanup()}, named by its mode. */
    public static SyncResult cleanup(Backend backend) {
        return cleanup(backend.mode(), backend);
    }

    /** Runs a whole sync step; false when it failed or threw (the exception is logged; the rules in place stay). */
    public static boolean run(String what, BooleanSupplier step) {
        try {
            return step.getAsBoolean();
        } catch (RuntimeException | Error e) {
            LOG.error("{} failed with an unexpected exception; the rules in place stay", what, e);
            return false;
        }
    }

    private static SyncResult guarded(String label, Supplier<SyncResult> step, String what) {
        long start = System.nanoTime();
        try {
            SyncResult r = step.get();
            if (r == null) {
                throw new IllegalStateException(label + " " + what + " returned no result");
            }
            return r;
        } catch (RuntimeException | Error e) {
            LOG.error("{} {} threw; the rules in place stay", label, what, e);
            return SyncResult.failure(true, Duration.ofNanos(System.nanoTime() - start),
                    label + " " + what + " failed: " + describe(e));
        }
    }

    /** The message, prefixed by the exception's name unless it is our own I/O or state complaint. */
    public static String describe(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isEmpty()) {
            return e.getClass().getSimpleName();
        }
        return e instanceof java.io.IOException || e instanceof IllegalStateException
                ? message : e.getClass().getSimpleName() + ": " + message;
    }
}
