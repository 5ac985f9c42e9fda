package dev.ferry.core;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What one sync did, as a value health and metrics read.
 *
 * @param full               whether every rule was rewritten (else only changed services)
 * @param rulesWritten       rules (lines) the backend wrote
 * @param error              why it failed; null when it worked
 * @param rulesByTable       after a successful sync, the rules this backend owns per table (e.g. "nat", "filter");
 *                           empty when the backend has no tables (metrics then show none)
 * @param rulesWrittenByTable the rules written per table by this sync; empty as above
 * @param applyFailed        the failure happened when applying the rules (iptables-restore), not before
 */
public record SyncResult(boolean ok, boolean full, int rulesWritten, Duration duration, String error,
                         Map<String, Integer> rulesByTable, Map<String, Integer> rulesWrittenByTable,
                         boolean applyFailed) {

    public SyncResult {
        Objects.requireNonNull(duration, "duration");
        if (!ok && (error == null || error.isEmpty())) {
            throw new IllegalArgumentException("a failed sync needs an error message");
        }
        if (ok && applyFailed) {
            throw new IllegalArgumentException("a sync that worked cannot have failed to apply");
        }
        rulesByTable = Map.copyOf(rulesByTable);
        rulesWrittenByTable = Map.copyOf(rulesWrittenByTable);
    }

    /** A result without per-table counts, as every backend reported before metrics. */
    public SyncResult(boolean ok, boolean full, int rulesWritten, Duration duration, String error) {
        this(ok, full, rulesWritten, duration, error, Map.of(), Map.of(), false);
    }

    public static SyncResult success(boolean full, int rulesWritten, Duration duration) {
        return new SyncResult(true, full, rulesWritten, duration, null);
    }

    public static SyncResult failure(boolean full, Duration duration, String error) {
        return new SyncResult(false, full, 0, duration, error);
    }

    /** A failure of the apply step (kubeproxy_sync_proxy_rules_iptables_restore_failures_total counts these). */
    public static SyncResult applyFailure(boolean full, Duration duration, String error) {
        return new SyncResult(false, full, 0, duration, error, Map.of(), Map.of(), true);
    }

    /** This result with the per-table rule counts of a successful sync. */
    public SyncResult withTableRules(Map<String, Integer> owned, Map<String, Integer> written) {
        return new SyncResult(ok, full, rulesWritten, duration, error, owned, written, applyFailed);
    }
}
