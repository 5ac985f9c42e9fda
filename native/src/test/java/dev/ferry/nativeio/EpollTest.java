package dev.ferry.nativeio;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real epoll set over real pipes; none of this needs root. Bytes are written through /proc/self/fd/N (see
 * {@link SpliceTest#write}). Waits are bounded: await timeouts, and the class timeout on a separate thread.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EpollTest {

    private final List<Integer> opened = new ArrayList<>();
    private Epoll epoll;

    @AfterEach
    void closeEverything() {
        if (epoll != null) {
            epoll.close();
        }
        opened.forEach(Splice::close);
    }

    @Test
    void edgeTriggeredReadEndReportsItsDataOncePerArrival() throws IOException {
        epoll = Epoll.open(8);
        int[] pipe = pipe();
        epoll.add(pipe[0], Epoll.IN | Epoll.EDGE, 42);
        assertEquals(0, epoll.await(0), "nothing to read yet");

        SpliceTest.write(pipe[1], SpliceTest.bytes(10, 1));
        assertEquals(1, epoll.await(5000));
        assertEquals(42, epoll.data(0));
        assertTrue((epoll.events(0) & Epoll.IN) != 0, "events 0x" + Integer.toHexString(epoll.events(0)));

        // Edge-triggered: the unread bytes are not reported again, only a new arrival is.
        assertEquals(0, epoll.await(0));
        SpliceTest.write(pipe[1], SpliceTest.bytes(10, 2));
        assertEquals(1, epoll.await(5000));
        assertEquals(42, epoll.data(0));
    }

    @Test
    void levelTriggeredReportsUntilRemoved() throws IOException {
        epoll = Epoll.open(8);
        int[] pipe = pipe();
        epoll.add(pipe[0], Epoll.IN, 7);
        SpliceTest.write(pipe[1], SpliceTest.bytes(10, 3));
        assertEquals(1, epoll.await(5000));
        assertEquals(7, epoll.data(0));
        assertEquals(1, epoll.await(0), "level-triggered: still readable, reported again");

        epoll.remove(pipe[0]);
        assertEquals(0, epoll.await(0), "removed: no events although the bytes are still there");
    }

    @Test
    void reportsWritableAndHangUpWithTheirOwnData() throws IOException {
        epoll = Epoll.open(8);
        int[] pipe = pipe();
        epoll.add(pipe[1], Epoll.OUT, 1);
        epoll.add(pipe[0], Epoll.IN | Epoll.RDHUP, 2);
        assertEquals(1, epoll.await(5000));
        assertEquals(1, epoll.data(0));
        assertEquals(Epoll.OUT, epoll.events(0) & (Epoll.OUT | Epoll.IN));

        epoll.remove(pipe[1]);
        Splice.close(pipe[1]);
        opened.remove(Integer.valueOf(pipe[1]));
        assertEquals(1, epoll.await(5000));
        assertEquals(2, epoll.data(0));
        assertTrue((epoll.events(0) & Epoll.HUP) != 0, "the last writer is gone: 0x"
                + Integer.toHexString(epoll.events(0)));
    }

    @Test
    void reportsAtMostCapacityEventsPerAwait() throws IOException {
        epoll = Epoll.open(1);
        int[] first = pipe();
        int[] second = pipe();
        epoll.add(first[0], Epoll.IN, 1);
        epoll.add(second[0], Epoll.IN, 2);
        SpliceTest.write(first[1], SpliceTest.bytes(1, 1));
        SpliceTest.write(second[1], SpliceTest.bytes(1, 2));
        assertEquals(1, epoll.await(5000));
        long a = epoll.data(0);
        assertEquals(1, epoll.await(5000));
        long b = epoll.data(0);
        assertEquals(Set.of(1L, 2L), Set.of(a, b), "epoll rotates ready entries, so both are reported");
    }

    @Test
    void wakeupFromAnotherThreadEndsABlockedAwaitAndIsConsumed() throws Exception {
        epoll = Epoll.open(8);
        // The waker wakes us only once this thread sits in the epoll_wait syscall (seen in /proc), so the test
        // proves that a blocked await returns, not just that a pending wake-up is noticed.
        Path syscall = Path.of("/proc/" + Files.readSymbolicLink(Path.of("/proc/thread-self")) + "/syscall");
        CompletableFuture<Boolean> sawBlocked = CompletableFuture.supplyAsync(() -> {
            boolean blocked = awaitUntil(() -> inEpollWait(syscall));
            epoll.wakeup();
            return blocked;
        });

        long start = System.nanoTime();
        int ready = epoll.await(10_000);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertTrue(sawBlocked.get(5, TimeUnit.SECONDS), "await was never seen blocked in epoll_wait");
        assertTrue(millis < 5000, "await took " + millis + " ms");
        assertEquals(1, ready);
        assertEquals(Epoll.WAKEUP, epoll.data(0));
        assertTrue((epoll.events(0) & Epoll.IN) != 0);
        assertEquals(0, epoll.await(0), "the wake-up was consumed");
    }

    @Test
    void wakeupsBeforeAwaitAreReportedOnceAtTheNextAwait() throws IOException {
        epoll = Epoll.open(8);
        epoll.wakeup();
        epoll.wakeup();
        long start = System.nanoTime();
        assertEquals(1, epoll.await(10_000));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
        assertEquals(Epoll.WAKEUP, epoll.data(0));
        assertEquals(0, epoll.await(0), "two wake-ups, one event, both consumed");
    }

    @Test
    void wakeupAndCloseAfterCloseDoNothing() throws IOException {
        Epoll closed = Epoll.open(1);
        closed.close();
        closed.close();
        closed.wakeup();
    }

    @Test
    void addingABadDescriptorNamesEpollCtl() throws IOException {
        epoll = Epoll.open(8);
        ErrnoException e = assertThrows(ErrnoException.class, () -> epoll.add(-1, Epoll.IN, 1));
        assertEquals(Errno.EBADF, e.errno());
        assertTrue(e.getMessage().startsWith("epoll_ctl(ADD, -1): "), e.getMessage());
    }

    @Test
    void addingTwiceAndRemovingAnUnknownDescriptorFail() throws IOException {
        epoll = Epoll.open(8);
        int[] pipe = pipe();
        epoll.add(pipe[0], Epoll.IN, 1);
        ErrnoException twice = assertThrows(ErrnoException.class, () -> epoll.add(pipe[0], Epoll.IN, 1));
        assertEquals(Errno.EEXIST, twice.errno());
        ErrnoException unknown = assertThrows(ErrnoException.class, () -> epoll.remove(pipe[1]));
        assertEquals(Errno.ENOENT, unknown.errno());
        assertTrue(unknown.getMessage().startsWith("epoll_ctl(DEL, " + pipe[1] + "): "), unknown.getMessage());
    }

    @Test
    void openRejectsZeroCapacity() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Epoll.open(0));
        assertTrue(e.getMessage().contains("capacity"), e.getMessage());
    }

    /** Whether the thread whose /proc syscall file this is sits in epoll_wait (or the epoll_pwait variants). */
    private static boolean inEpollWait(Path syscallFile) {
        String arch = System.getProperty("os.arch");
        Set<String> numbers = switch (arch) {
            case "amd64", "x86_64" -> Set.of("232", "281", "441");
            case "aarch64" -> Set.of("22", "441");
            default -> null;
        };
        try {
            String[] fields = Files.readAllLines(syscallFile).get(0).trim().split(" ");
            if (numbers == null) {
                return !fields[0].equals("running"); // unknown numbering: in some syscall is the best we can tell
            }
            return numbers.contains(fields[0]);
        } catch (IOException e) {
            return false;
        }
    }

    /** Polls {@code condition} until it holds or 5 s pass; true if it held. */
    private static boolean awaitUntil(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }

    private int[] pipe() throws IOException {
        int[] fds = Splice.pipe(65536);
        opened.add(fds[0]);
        opened.add(fds[1]);
        return fds;
    }
}
