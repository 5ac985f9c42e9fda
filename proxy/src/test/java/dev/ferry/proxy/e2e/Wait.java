package dev.ferry.proxy.e2e;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Bounded polling: a test waits for an observable condition, never for a fixed time. Runs on the
 * calling thread; the short pause between probes only spaces out the polling.
 */
final class Wait {
    private static final Duration POLL = Duration.ofMillis(100);

    private Wait() {
    }

    /**
     * Probes until {@code ok} accepts the probe's value and returns that value; otherwise fails
     * after {@code timeout} with {@code what}, and the last value seen rendered by {@code show}.
     */
    static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<T> ok,
                       Function<T, String> show) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last;
        while (true) {
            last = probe.get();
            if (ok.test(last)) {
                return last;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + "s waiting for: " + what
                        + "\nlast seen:\n" + show.apply(last));
            }
            pause(POLL);
        }
    }

    static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<T> ok) {
        return until(what, timeout, probe, ok, String::valueOf);
    }

    /** Waits until {@code condition} holds; {@code context} explains the state on timeout. */
    static void until(String what, Duration timeout, Supplier<Boolean> condition, Supplier<String> context) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.get()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + "s waiting for: " + what
                        + "\n" + context.get());
            }
            pause(POLL);
        }
    }

    /**
     * Checks that {@code condition} holds throughout {@code period} (probing repeatedly): for
     * "nothing changes while X is gone", where there is no event to wait for.
     */
    static void during(String what, Duration period, Supplier<Boolean> condition, Supplier<String> context) {
        long end = System.nanoTime() + period.toNanos();
        do {
            if (!condition.get()) {
                throw new AssertionError("no longer true: " + what + "\n" + context.get());
            }
            pause(POLL);
        } while (System.nanoTime() - end < 0);
    }

    static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
