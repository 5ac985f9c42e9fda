package dev.ferry.userspace.forward;

import dev.ferry.nativeio.Epoll;
import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.ErrnoException;
import dev.ferry.nativeio.Splice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * A client and its backend connection after {@link TcpConnection} handed both sockets over: bytes move through one
 * pipe per direction with splice(2) and never enter the JVM.
 *
 * <p>Threads: owned by one {@link SplicePump} thread from adoption to close; nothing here is touched by any other
 * thread (the registry set is concurrent, the counters are adders).
 *
 * <p>Per direction: while the pipe holds bytes they go to the target first; an empty pipe is refilled from the
 * source. "Would block" on either end is where a direction waits: both sockets are watched edge-triggered for
 * readable and writable, and every event on either socket runs both directions again, so no edge is lost. End of
 * stream is passed on as a FIN once the pipe is empty; the connection closes when both directions have passed their
 * FIN. A socket error (a reset, a write to a closed peer) resets both sides, like the Netty path.
 */
final class SplicedConnection {

    private static final Logger log = LoggerFactory.getLogger(SplicedConnection.class);
    /** Bytes asked of the source per splice: the pipe's capacity bounds what one call moves anyway. */
    private static final long CHUNK = 1 << 20;

    /** The pump that owns this connection: only its thread may call anything but {@link #toString()}. */
    final SplicePump pump;
    final int clientFd;
    final int backendFd;
    private final Direction up;
    private final Direction down;
    private final ForwarderStats stats;
    private final Set<SplicedConnection> registry;
    private final String name;
    long lastActivity;
    int slot = -1;
    private boolean closed;

    private SplicedConnection(SplicePump pump, int clientFd, int backendFd, int[] upPipe, int[] downPipe,
                              ForwarderStats stats, Set<SplicedConnection> registry, String name) {
        this.pump = pump;
        this.clientFd = clientFd;
        this.backendFd = backendFd;
        this.up = new Direction(clientFd, backendFd, upPipe, stats.bytesIn);
        this.down = new Direction(backendFd, clientFd, downPipe, stats.bytesOut);
        this.stats = stats;
        this.registry = registry;
        this.name = name;
    }

    /**
     * Takes ownership of the two socket descriptors (closed here on any failure) and makes the two pipes. The
     * connection is counted open already (by {@link TcpConnection}); it is counted closed by {@link #close}.
     */
    static SplicedConnection create(SplicePump pump, int clientFd, int backendFd, int pipeCapacity,
                                    ForwarderStats stats, Set<SplicedConnection> registry, String name)
            throws IOException {
        int[] upPipe = null;
        try {
            upPipe = Splice.pipe(pipeCapacity);
            int[] downPipe = Splice.pipe(pipeCapacity);
            SplicedConnection connection =
                    new SplicedConnection(pump, clientFd, backendFd, upPipe, downPipe, stats, registry, name);
            registry.add(connection);
            return connection;
        } catch (IOException | RuntimeException e) {
            if (upPipe != null) {
                Splice.close(upPipe[0]);
                Splice.close(upPipe[1]);
            }
            Splice.close(clientFd);
            Splice.close(backendFd);
            stats.closed();
            throw e;
        }
    }

    /**
     * Moves what the events on one socket made possible: readable (or end of stream) runs the direction that reads
     * from it; writable runs the one that writes to it, if that one is waiting with bytes in its pipe. Returns false
     * once the connection is closed.
     */
    boolean pump(boolean clientSocket, int events) {
        if (closed) {
            return false;
        }
        Direction reading = clientSocket ? up : down;
        Direction writing = clientSocket ? down : up;
        try {
            if ((events & (Epoll.IN | Epoll.RDHUP | Epoll.HUP)) != 0) {
                reading.pump();
            }
            if ((events & (Epoll.OUT | Epoll.HUP)) != 0 && writing.inPipe > 0) {
                writing.pump();
            }
        } catch (IOException e) {
            return failed(e);
        }
        return finishIfDone();
    }

    /** Moves what can move now, both ways (right after adoption). Returns false once the connection is closed. */
    boolean pumpBoth() {
        if (closed) {
            return false;
        }
        try {
            up.pump();
            down.pump();
        } catch (IOException e) {
            return failed(e);
        }
        return finishIfDone();
    }

    private boolean failed(IOException e) {
        boolean reset = e instanceof ErrnoException errno
                && (errno.errno() == Errno.ECONNRESET || errno.errno() == Errno.EPIPE);
        log.debug("{}: {}", name, e.getMessage());
        close(reset || !(e instanceof ErrnoException));
        return false;
    }

    private boolean finishIfDone() {
        if (up.finished && down.finished) {
            close(false);
            return false;
        }
        return true;
    }

    /**
     * Closes both sockets and both pipes, once. {@code reset}: with a reset instead of a FIN, for a connection
     * whose other side failed.
     */
    void close(boolean reset) {
        if (closed) {
            return;
        }
        closed = true;
        if (reset) {
            Splice.closeWithReset(clientFd);
            Splice.closeWithReset(backendFd);
        } else {
            Splice.close(clientFd);
            Splice.close(backendFd);
        }
        up.closePipe();
        down.closePipe();
        registry.remove(this);
        stats.closed();
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return name;
    }

    /** One way through the pipe: source socket → pipe → target socket. */
    private static final class Direction {
        private final int from;
        private final int to;
        private final int pipeRead;
        private final int pipeWrite;
        private final LongAdder counter;
        private long inPipe;
        private boolean eof;
        boolean finished;

        Direction(int from, int to, int[] pipe, LongAdder counter) {
            this.from = from;
            this.to = to;
            this.pipeRead = pipe[0];
            this.pipeWrite = pipe[1];
            this.counter = counter;
        }

        void pump() throws IOException {
            while (!finished) {
                if (inPipe > 0) {
                    long moved = Splice.splice(pipeRead, to, inPipe);
                    if (moved == Splice.WOULD_BLOCK) {
                        return; // the target's writable edge runs us again
                    }
                    inPipe -= moved;
                } else if (eof) {
                    Splice.shutdownOutput(to);
                    finished = true;
                } else {
                    long moved = Splice.splice(from, pipeWrite, CHUNK);
                    if (moved == Splice.WOULD_BLOCK) {
                        return; // the source's readable edge runs us again
                    }
                    if (moved == 0) {
                        eof = true;
                    } else {
                        inPipe += moved;
                        counter.add(moved);
                    }
                }
            }
        }

        void closePipe() {
            Splice.close(pipeRead);
            Splice.close(pipeWrite);
        }
    }
}
