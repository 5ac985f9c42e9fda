package dev.ferry.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExecutorSchedulerTest {

    @Test
    void closeLetsTheRunningTaskFinishUninterruptedAndDropsTheOnesNotStarted() throws Exception {
        ExecutorScheduler scheduler = new ExecutorScheduler("test-sync", Duration.ofSeconds(30));
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        AtomicBoolean finished = new AtomicBoolean();
        AtomicBoolean laterRan = new AtomicBoolean();
        scheduler.schedule(() -> {
            started.countDown();
            try {
                release.await();
                finished.set(true);
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        }, 0);
        // delayed past close's wait: were it kept after shutdown, close would wait for it and the join below time out
        scheduler.schedule(() -> laterRan.set(true), TimeUnit.SECONDS.toNanos(60));
        assertTrue(started.await(10, TimeUnit.SECONDS));
        Thread closer = new Thread(scheduler::close);
        closer.start();
        release.countDown();
        closer.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(closer.isAlive(), "close returned");
        assertTrue(finished.get(), "the running task finished");
        assertFalse(interrupted.get(), "and was not interrupted");
        assertFalse(laterRan.get(), "a task not started when close began never runs");
    }

    @Test
    void closeInterruptsATaskThatOutlastsTheBound() throws Exception {
        ExecutorScheduler scheduler = new ExecutorScheduler("test-sync", Duration.ofMillis(100));
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        scheduler.schedule(() -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        }, 0);
        assertTrue(started.await(10, TimeUnit.SECONDS));
        scheduler.close();
        assertTrue(interrupted.await(10, TimeUnit.SECONDS), "the stuck task was interrupted");
    }
}
