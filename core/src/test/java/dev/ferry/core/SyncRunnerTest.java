package dev.ferry.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The runner's timing on a fake clock: nothing here waits for real time. */
class SyncRunnerTest {

    /** A manual clock: tasks run only when the test advances time past their due time. */
    static final class FakeScheduler implements Scheduler {
        private record Task(long due, long seq, Runnable r, AtomicBoolean cancelled) {
        }

        private final PriorityQueue<Task> queue = new PriorityQueue<>(
                Comparator.comparingLong(Task::due).thenComparingLong(Task::seq));
        private long now;
        private long seq;

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public Cancellable schedule(Runnable task, long delayNanos) {
            AtomicBoolean cancelled = new AtomicBoolean();
            queue.add(new Task(now + delayNanos, seq++, task, cancelled));
            return () -> cancelled.set(true);
        }

        void advanceMillis(long ms) {
            long target = now + ms * 1_000_000L;
            while (!queue.isEmpty() && queue.peek().due() <= target) {
                Task t = queue.poll();
                now = Math.max(now, t.due());
                if (!t.cancelled().get()) {
                    t.r().run();
                }
            }
            now = target;
        }
    }

    private final FakeScheduler clock = new FakeScheduler();
    private final List<Long> runsAtMillis = new ArrayList<>();
    private boolean succeed = true;

    private SyncRunner runner(long minMs, long maxMs) {
        return new SyncRunner(clock, Duration.ofMillis(minMs), Duration.ofMillis(maxMs), () -> {
            runsAtMillis.add(clock.nanoTime() / 1_000_000L);
            return succeed;
        });
    }

    @Test
    void firstSyncIsImmediateAndRequestsAreCoalescedByTheMinInterval() {
        SyncRunner r = runner(1000, 30_000);
        r.request(); // before start: nothing
        clock.advanceMillis(10);
        assertEquals(List.of(), runsAtMillis);
        r.start();
        clock.advanceMillis(0);
        assertEquals(List.of(10L), runsAtMillis);

        clock.advanceMillis(100);
        r.request();
        r.request();
        clock.advanceMillis(400);
        r.request();
        clock.advanceMillis(1000);
        assertEquals(List.of(10L, 1010L), runsAtMillis, "three requests within the min interval: one sync at +1s");
    }

    @Test
    void syncsPeriodicallyWithoutRequests() {
        SyncRunner r = runner(1000, 30_000);
        r.start();
        clock.advanceMillis(61_000);
        assertEquals(List.of(0L, 30_000L, 60_000L), runsAtMillis);
    }

    @Test
    void requestAfterTheMinIntervalRunsAtOnce() {
        SyncRunner r = runner(1000, 30_000);
        r.start();
        clock.advanceMillis(5000);
        r.request();
        clock.advanceMillis(0);
        assertEquals(List.of(0L, 5000L), runsAtMillis);
    }

    @Test
    void failuresAreRetriedWithBackoffThenSuccessResetsIt() {
        SyncRunner r = runner(1000, 30_000);
        succeed = false;
        r.start();
        clock.advanceMillis(7500);
        // 0 fails; retry after 1s, then 2s, then 4s
        assertEquals(List.of(0L, 1000L, 3000L, 7000L), runsAtMillis);
        assertEquals(4, r.consecutiveFailures());
        succeed = true;
        clock.advanceMillis(8000); // next retry at 15000
        assertEquals(List.of(0L, 1000L, 3000L, 7000L, 15000L), runsAtMillis);
        assertEquals(0, r.consecutiveFailures());
    }

    @Test
    void aThrowingSyncCountsAsAFailureAndIsRetried() {
        List<Long> runs = new ArrayList<>();
        SyncRunner r = new SyncRunner(clock, Duration.ofSeconds(1), Duration.ofSeconds(30), () -> {
            runs.add(clock.nanoTime());
            throw new IllegalStateException("boom");
        });
        r.start();
        clock.advanceMillis(1500);
        assertEquals(2, runs.size());
        assertEquals(2, r.consecutiveFailures());
    }

    @Test
    void requestDuringASyncSchedulesOneMore() {
        SyncRunner[] holder = new SyncRunner[1];
        List<Long> runs = new ArrayList<>();
        holder[0] = new SyncRunner(clock, Duration.ofSeconds(1), Duration.ofSeconds(30), () -> {
            runs.add(clock.nanoTime() / 1_000_000L);
            if (runs.size() == 1) {
                holder[0].request(); // a change arrives while syncing
            }
            return true;
        });
        holder[0].start();
        clock.advanceMillis(2000);
        assertEquals(List.of(0L, 1000L), runs);
    }

    @Test
    void rejectsBadIntervals() {
        assertThrows(IllegalArgumentException.class, () -> runner(2000, 1000));
        assertThrows(IllegalArgumentException.class, () -> runner(0, 0));
    }
}
