package dev.ferry.core;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What one sync (or cleanup) of one backend did, as a value health, metrics and logs read. Every
 * mode fills the same fields; what a mode counts by kind is its own ({@link #owned()}).
 *
 * @param full         whether everything was rewritten (else only what changed)
 * @param rulesWritten rules (or virtual servers, elements, ...) the backend wrote
 * @param error        why it failed, one line; null when it worked
 * @param applyFailed  the kernel refused the change (iptables-restore failed, a netlink batch was
 *                     refused), as opposed to a failure before anything was applied
 * @param owned        after a successful sync, what the backend owns by kind (iptables mode: rules
 *                     per table, "nat" and "filter"); empty when the mode counts nothing by kind
 * @param written      what this sync wrote, by the same kinds
 */
public record SyncResult(boolean ok, boolean full, int rulesWritten, Duration duration, String error,
                         boolean applyFailed, Map<String, Integer> owned, Map<String, Integer> written) {

    public SyncResult {
        Objects.requireNonNull(duration, "duration");
        if (!ok && (error == null || error.isEmpty())) {
            throw new IllegalArgumentException("a failed sync needs an error message");
        }
        if (ok && applyFailed) {
            throw new IllegalArgumentException("a sync that worked cannot have failed to apply");
        }
        error = oneLine(error);
        owned = Map.copyOf(owned);
        written = Map.copyOf(written);
    }

    public static SyncResult success(boolean full, int rulesWritten, Duration duration) {
        return new SyncResult(true, full, rulesWritten, duration, null, false, Map.of(), Map.of());
    }

    public static SyncResult failure(boolean full, Duration duration, String error) {
        return new SyncResult(false, full, 0, duration, error, false, Map.of(), Map.of());
    }

    /** A failure of the apply step (kubeproxy_sync_proxy_rules_iptables_restore_failures_total counts these). */
    public static SyncResult applyFailure(boolean full, Duration duration, String error) {
        return new SyncResult(false, full, 0, duration, error, true, Map.of(), Map.of());
    }

    /** This result with what the backend owns and wrote, by kind. */
    public SyncResult withCounts(Map<String, Integer> owned, Map<String, Integer> written) {
        return new SyncResult(ok, full, rulesWritten, duration, error, applyFailed, owned, written);
    }

    /** Logs keep one line per sync: a multi-line error (iptables-restore's stderr) is joined with " | ". */
    private static String oneLine(String error) {
        return error == null ? null : error.strip().replaceAll("\\s*\\R\\s*", " | ");
    }
}
