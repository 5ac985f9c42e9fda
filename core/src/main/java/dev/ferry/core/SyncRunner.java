package dev.ferry.core;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Runs syncs at a bounded frequency: a requested sync starts as soon as {@code minInterval} has
 * passed since the previous one started (so every change in between is coalesced into it), a
 * sync runs at least every {@code maxInterval}, and a failed sync is retried after a backoff
 * that starts at the min interval and doubles up to the max interval.
 *
 * <p>Threads: {@link #request} may be called from any thread; syncs run on the scheduler's
 * thread, one at a time (the scheduler must be single-threaded). A request that arrives during a
 * sync schedules one more. A sync that throws counts as failed.
 */
public final class SyncRunner {

    private final Scheduler scheduler;
    private final BooleanSupplier sync;
    private final long minNanos;
    private final long maxNanos;

    // Guarded by this.
    private boolean started;
    private boolean running;
    private boolean requestedWhileRunning;
    private long lastStart;
    private boolean hasRun;
    private int consecutiveFailures;
    private long dueAt;
    private Scheduler.Cancellable scheduled;

    public SyncRunner(Scheduler scheduler, Duration minInterval, Duration maxInterval, BooleanSupplier sync) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.sync = Objects.requireNonNull(sync, "sync");
        if (minInterval.isNegative() || maxInterval.isNegative() || maxInterval.isZero()) {
            throw new IllegalArgumentException("intervals must be positive: min " + minInterval + ", max " + maxInterval);
        }
        if (minInterval.compareTo(maxInterval) > 0) {
            throw new IllegalArgumentException("min interval " + minInterval + " exceeds max interval " + maxInterval);
        }
        this.minNanos = minInterval.toNanos();
        this.maxNanos = maxInterval.toNanos();
    }

    /** Starts the loop with an immediate first sync. */
    public synchronized void start() {
        if (started) {
            return;
        }
        started = true;
        scheduleAt(scheduler.nanoTime());
    }

    /** Asks for a sync as soon as the min interval allows. Before {@link #start}, it only marks the need. */
    public synchronized void request() {
        if (!started) {
            return; // start() syncs everything anyway
        }
        if (running) {
            requestedWhileRunning = true;
            return;
        }
        long now = scheduler.nanoTime();
        scheduleAt(hasRun ? Math.max(now, lastStart + minNanos) : now);
    }

    /** Consecutive failed syncs, 0 after a success. */
    public synchronized int consecutiveFailures() {
        return consecutiveFailures;
    }

    private void scheduleAt(long due) {
        if (scheduled != null && dueAt <= due) {
            return; // an earlier run is already planned and will cover this
        }
        if (scheduled != null) {
            scheduled.cancel();
        }
        dueAt = due;
        scheduled = scheduler.schedule(this::run, Math.max(0, due - scheduler.nanoTime()));
    }

    private void run() {
        synchronized (this) {
            scheduled = null;
            running = true;
            lastStart = scheduler.nanoTime();
            hasRun = true;
        }
        boolean ok = SyncGuard.run("sync", sync);
        synchronized (this) {
            running = false;
            long now = scheduler.nanoTime();
            long next = lastStart + maxNanos;
            if (ok) {
                consecutiveFailures = 0;
            } else {
                consecutiveFailures++;
                long backoff = Math.max(minNanos, Duration.ofSeconds(1).toNanos());
                for (int i = 1; i < consecutiveFailures && backoff < maxNanos; i++) {
                    backoff *= 2;
                }
                next = Math.min(next, now + Math.min(backoff, maxNanos));
            }
            if (requestedWhileRunning) {
                requestedWhileRunning = false;
                next = Math.min(next, Math.max(now, lastStart + minNanos));
            }
            scheduleAt(next);
        }
    }
}
