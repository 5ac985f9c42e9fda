package dev.ferry.nativeio;

import jnr.ffi.Platform;
import jnr.ffi.Pointer;

import java.io.IOException;

/**
 * An epoll set with its own wake-up descriptor (an eventfd), for a thread that waits on sockets and must also be
 * told about work from other threads.
 *
 * <p>Threads: {@link #add}, {@link #remove}, {@link #await} and the event accessors belong to the one thread that
 * waits; {@link #wakeup()} may be called from any thread, also during or after {@link #close()}. Each registration
 * carries a caller-chosen 64-bit value that {@link #data(int)} gives back; {@link #WAKEUP} is reserved for the
 * wake-up descriptor.
 */
public final class Epoll implements AutoCloseable {

    public static final int IN = 0x1;
    public static final int OUT = 0x4;
    public static final int ERR = 0x8;
    public static final int HUP = 0x10;
    public static final int RDHUP = 0x2000;
    /** Edge-triggered: an event is reported when readiness changes, not while it lasts. */
    public static final int EDGE = 1 << 31;
    /** {@link #data(int)} of the event that {@link #wakeup()} caused. */
    public static final long WAKEUP = Long.MIN_VALUE;

    /** struct epoll_event is packed on x86 (12 bytes) and naturally aligned elsewhere (16 bytes, data at 8). */
    private static final boolean PACKED;
    private static final int EVENT_SIZE;
    private static final int DATA_OFFSET;

    static {
        Platform.CPU cpu = Platform.getNativePlatform().getCPU();
        PACKED = cpu == Platform.CPU.X86_64 || cpu == Platform.CPU.I386;
        EVENT_SIZE = PACKED ? 12 : 16;
        DATA_OFFSET = PACKED ? 4 : 8;
    }

    private final LibC.Calls libc;
    private final int epfd;
    private final int wakeFd;
    private final int capacity;
    private final Pointer events;
    private final Pointer control;
    private final Pointer counter;
    /** Holds the value 1; only ever read (by write(2)), so every thread may share it. */
    private final Pointer one;
    private volatile boolean closed;

    private Epoll(LibC.Calls libc, int epfd, int wakeFd, int capacity) {
        this.libc = libc;
        this.epfd = epfd;
        this.wakeFd = wakeFd;
        this.capacity = capacity;
        this.events = Splice.buffer(capacity * EVENT_SIZE);
        this.control = Splice.buffer(EVENT_SIZE);
        this.counter = Splice.buffer(8);
        this.one = Splice.buffer(8);
        one.putLong(0, 1);
    }

    /** A new set that reports up to {@code capacity} events per {@link #await}. */
    public static Epoll open(int capacity) throws IOException {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: must be at least 1, got " + capacity);
        }
        LibC.Calls libc = Native.libc();
        int epfd = libc.epoll_create1(Native.O_CLOEXEC);
        if (epfd < 0) {
            throw new ErrnoException("epoll_create1", Native.errno());
        }
        int wakeFd = libc.eventfd(0, Native.O_NONBLOCK | Native.O_CLOEXEC);
        if (wakeFd < 0) {
            int errno = Native.errno();
            libc.close(epfd);
            throw new ErrnoException("eventfd", errno);
        }
        Epoll epoll = new Epoll(libc, epfd, wakeFd, capacity);
        try {
            epoll.add(wakeFd, IN, WAKEUP);
        } catch (IOException e) {
            epoll.close();
            throw e;
        }
        return epoll;
    }

    /** Watches {@code fd} for {@code interest} (e.g. {@code IN | OUT | RDHUP | EDGE}), reporting {@code data}. */
    public void add(int fd, int interest, long data) throws IOException {
        control.putInt(0, interest);
        control.putLong(DATA_OFFSET, data);
        if (libc.epoll_ctl(epfd, Native.EPOLL_CTL_ADD, fd, control) < 0) {
            throw new ErrnoException("epoll_ctl(ADD, " + fd + ")", Native.errno());
        }
    }

    /** Stops watching {@code fd}. (Closing a descriptor that no other descriptor duplicates does this too.) */
    public void remove(int fd) throws IOException {
        if (libc.epoll_ctl(epfd, Native.EPOLL_CTL_DEL, fd, control) < 0) {
            throw new ErrnoException("epoll_ctl(DEL, " + fd + ")", Native.errno());
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: no limit, 0: do not wait) for events; returns how many are ready
     * (0 on timeout or when a signal interrupted the wait). A wake-up is reported as an event whose data is
     * {@link #WAKEUP}; it has been consumed already.
     */
    public int await(int timeoutMillis) throws IOException {
        int ready = libc.epoll_wait(epfd, events, capacity, timeoutMillis);
        if (ready < 0) {
            int errno = Native.errno();
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw new ErrnoException("epoll_wait", errno);
        }
        for (int i = 0; i < ready; i++) {
            if (data(i) == WAKEUP) {
                libc.read(wakeFd, counter, 8); // resets the eventfd counter; EAGAIN means another read got it
            }
        }
        return ready;
    }

    /** The events (IN, OUT, ERR, HUP, RDHUP bits) of ready entry {@code i} of the last {@link #await}. */
    public int events(int i) {
        return events.getInt(offset(i));
    }

    /** The data of ready entry {@code i} of the last {@link #await}. */
    public long data(int i) {
        return events.getLong(offset(i) + DATA_OFFSET);
    }

    private long offset(int i) {
        if (i < 0 || i >= capacity) {
            throw new IndexOutOfBoundsException("event " + i + " of " + capacity);
        }
        return (long) i * EVENT_SIZE;
    }

    /** Makes the waiting thread's {@link #await} return (now, or at once next time). Any thread. */
    public void wakeup() {
        // Under the lock so that close() cannot free the descriptor number between the check and the write:
        // the number could be reused at once, and the write would go into someone else's file.
        synchronized (one) {
            if (!closed) {
                libc.write(wakeFd, one, 8);
            }
        }
    }

    @Override
    public void close() {
        synchronized (one) {
            if (closed) {
                return;
            }
            closed = true;
            libc.close(epfd);
            libc.close(wakeFd);
        }
    }
}
