package dev.ferry.core;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The real scheduler: one daemon thread, System.nanoTime.
 *
 * <p>{@link #close()} drops the tasks that have not started and lets a running one finish (within a bound) before
 * interrupting it: a sync stopped half way would kill the restore command it is waiting for, and a sync that ends on
 * its own leaves the kernel in a state that a later process can compare against.
 */
public final class ExecutorScheduler implements Scheduler, AutoCloseable {

    /** How long {@link #close()} waits for a running task before interrupting it. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(15);

    private final ScheduledThreadPoolExecutor executor;
    private final Duration closeWait;

    public ExecutorScheduler(String threadName) {
        this(threadName, CLOSE_WAIT);
    }

    ExecutorScheduler(String threadName, Duration closeWait) {
        this.closeWait = closeWait;
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        executor.setRemoveOnCancelPolicy(true);
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Cancellable schedule(Runnable task, long delayNanos) {
        ScheduledFuture<?> f = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (executor.awaitTermination(closeWait.toNanos(), TimeUnit.NANOSECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }
}
