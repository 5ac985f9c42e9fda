package dev.ferry.core;

import java.time.Duration;
import java.util.Objects;

/**
 * What one sync did, as a value health and metrics read.
 *
 * @param full        whether every rule was rewritten (else only changed services)
 * @param rulesWritten rules (lines) the backend wrote
 * @param error       why it failed; null when it worked
 */
public record SyncResult(boolean ok, boolean full, int rulesWritten, Duration duration, String error) {

    public SyncResult {
        Objects.requireNonNull(duration, "duration");
        if (!ok && (error == null || error.isEmpty())) {
            throw new IllegalArgumentException("a failed sync needs an error message");
        }
    }

    public static SyncResult success(boolean full, int rulesWritten, Duration duration) {
        return new SyncResult(true, full, rulesWritten, duration, null);
    }

    public static SyncResult failure(boolean full, Duration duration, String error) {
        return new SyncResult(false, full, 0, duration, error);
    }
}
