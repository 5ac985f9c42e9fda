package dev.ferry.userspace.forward;

import dev.ferry.nativeio.Epoll;
import org.jctools.queues.MpscUnboundedArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One thread that moves the bytes of {@link SplicedConnection}s: an epoll set over their sockets (edge-triggered,
 * registered once, never modified), and a command queue for the other threads.
 *
 * <p>Threads: {@link #adopt} and {@link #close(List)} may be called from any thread; they queue a command and wake
 * the pump. Everything else, and every {@link SplicedConnection} method, runs on the pump thread. The pump sweeps
 * its connections for the idle timeout about once a second.
 *
 * <p>Failure: a connection's I/O error closes that connection only. If the epoll set itself fails (it should not),
 * the pump resets every connection it has and stops; new handoffs to it are closed at once, and the error is
 * logged once.
 */
final class SplicePump implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SplicePump.class);
    private static final int INTEREST = Epoll.IN | Epoll.OUT | Epoll.RDHUP | Epoll.EDGE;
    private static final int SWEEP_MILLIS = 1000;

    private final Epoll epoll;
    private final MpscUnboundedArrayQueue<Runnable> commands = new MpscUnboundedArrayQueue<>(256);
    private final long idleNanos;
    private final Thread thread;
    private SplicedConnection[] slots = new SplicedConnection[64];
    private int[] freeSlots = new int[64];
    private int freeCount;
    private int used;
    private volatile boolean stopping;
    private volatile boolean dead;

    SplicePump(String threadName, long idleNanos) throws IOException {
        this.epoll = Epoll.open(256);
        this.idleNanos = idleNanos;
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Hands a connection to this pump; it starts moving bytes at once. Any thread. */
    void adopt(SplicedConnection connection) {
        submit(() -> register(connection), () -> connection.close(true));
    }

    /** Closes these connections (with a FIN); the future completes once they are closed. Any thread. */
    CompletableFuture<Void> close(List<SplicedConnection> connections) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submit(() -> {
            for (SplicedConnection c : connections) {
                release(c, false);
            }
            done.complete(null);
        }, () -> done.complete(null));
        return done;
    }

    /** Stops the thread after closing every connection it has; waits for it (bounded). */
    @Override
    public void close() {
        stopping = true;
        epoll.wakeup();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void submit(Runnable command, Runnable ifDead) {
        if (dead || stopping) {
            ifDead.run(); // the pump thread is gone or going: closing the caller's objects here is safe
            return;
        }
        commands.offer(command);
        epoll.wakeup();
    }

    private void run() {
        long lastSweep = System.nanoTime();
        try {
            while (!stopping) {
                int ready = epoll.await(SWEEP_MILLIS);
                long now = System.nanoTime();
                for (int i = 0; i < ready; i++) {
                    long data = epoll.data(i);
                    if (data == Epoll.WAKEUP) {
                        continue;
                    }
                    SplicedConnection connection = slots[(int) (data >>> 1)];
                    if (connection == null) {
                        continue; // closed earlier in this batch
                    }
                    connection.lastActivity = now;
                    if ((epoll.events(i) & Epoll.ERR) != 0) {
                        release(connection, true);
                    } else if (!connection.pump((data & 1) == 0, epoll.events(i))) {
                        release(connection, false);
                    }
                }
                Runnable command;
                while ((command = commands.poll()) != null) {
                    command.run();
                }
                if (now - lastSweep >= SWEEP_MILLIS * 1_000_000L) {
                    lastSweep = now;
                    sweepIdle(now);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.error("splice pump {} failed; resetting its {} connections: {}", thread.getName(), used, e.toString());
        } finally {
            dead = true;
            shutdown();
        }
    }

    private void register(SplicedConnection connection) {
        if (connection.isClosed()) {
            return; // closed by a close command that overtook its adoption; its descriptors may be reused already
        }
        int slot = freeCount > 0 ? freeSlots[--freeCount] : nextSlot();
        slots[slot] = connection;
        connection.slot = slot;
        connection.lastActivity = System.nanoTime();
        used++;
        try {
            // data: the slot, and which socket (0 client, 1 backend)
            epoll.add(connection.clientFd, INTEREST, (long) slot << 1);
            epoll.add(connection.backendFd, INTEREST, ((long) slot << 1) | 1);
        } catch (IOException e) {
            log.debug("{}: cannot watch its sockets: {}", connection, e.getMessage());
            release(connection, true);
            return;
        }
        if (!connection.pumpBoth()) {
            release(connection, false);
        }
    }

    private int nextSlot() {
        int slot = used + freeCount;
        if (slot == slots.length) {
            slots = Arrays.copyOf(slots, slot * 2);
            freeSlots = Arrays.copyOf(freeSlots, slot * 2);
        }
        return slot;
    }

    /** Closes (if not closed already) and forgets a connection. Closing its sockets also removes them from epoll. */
    private void release(SplicedConnection connection, boolean reset) {
        connection.close(reset);
        int slot = connection.slot;
        if (slot >= 0 && slots[slot] == connection) {
            slots[slot] = null;
            freeSlots[freeCount++] = slot;
            used--;
            connection.slot = -1;
        }
    }

    private void sweepIdle(long now) {
        for (SplicedConnection connection : slots) {
            if (connection != null && now - connection.lastActivity >= idleNanos) {
                log.debug("closing {}: idle", connection);
                release(connection, false);
            }
        }
    }

    private void shutdown() {
        for (SplicedConnection connection : new ArrayList<>(Arrays.asList(slots))) {
            if (connection != null) {
                release(connection, false);
            }
        }
        Runnable command;
        while ((command = commands.poll()) != null) {
            command.run(); // adopt/close commands queued meanwhile: adopt registers on a closing set, then closes
        }
        for (SplicedConnection connection : slots) {
            if (connection != null) {
                release(connection, true);
            }
        }
        epoll.close();
    }
}
