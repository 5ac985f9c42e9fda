package dev.ferry.core;

import java.time.Duration;

/** Times one sync from its start and builds its result, so that every backend measures the same way. */
public final class SyncTimer {

    private final long start = System.nanoTime();

    private SyncTimer() {
    }

    /** Starts timing now. */
    public static SyncTimer start() {
        return new SyncTimer();
    }

    public Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - start);
    }

    public SyncResult success(boolean full, int rulesWritten) {
        return SyncResult.success(full, rulesWritten, elapsed());
    }

    public SyncResult failure(boolean full, String error) {
        return SyncResult.failure(full, elapsed(), error);
    }

    public SyncResult applyFailure(boolean full, String error) {
        return SyncResult.applyFailure(full, elapsed(), error);
    }
}
