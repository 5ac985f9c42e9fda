package dev.ferry.core;

/** Time and delayed execution, injected so the sync runner can be tested on a fake clock. */
public interface Scheduler {

    /** Monotonic time in nanoseconds. */
    long nanoTime();

    /** Runs {@code task} once after {@code delayNanos}; the handle cancels it if it has not started. */
    Cancellable schedule(Runnable task, long delayNanos);

    interface Cancellable {
        void cancel();
    }
}
