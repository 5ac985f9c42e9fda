package dev.ferry.nativeio;

import jnr.ffi.Pointer;

import java.io.IOException;

/**
 * The syscalls of a zero-copy relay between two sockets: a pipe per direction, {@code splice(2)} from a socket into
 * the pipe and from the pipe into the other socket (the kernel moves page references, the bytes are never copied to
 * user space), and the socket calls around it: half-close, duplicate, close with or without a reset.
 *
 * <p>All calls are non-blocking and thread-safe in the way the syscalls are: the caller owns its descriptors. A
 * failure is an {@link ErrnoException} naming the call and its descriptors; "would block" is a return value, since
 * it is the normal outcome of a non-blocking relay, not an error.
 */
public final class Splice {

    /** {@link #splice} moved nothing because the source had nothing to give or the target had no room. */
    public static final long WOULD_BLOCK = -1;

    private static final int SPLICE_FLAGS = Native.SPLICE_F_MOVE | Native.SPLICE_F_NONBLOCK;

    private Splice() {
    }

    /** Whether the relay syscalls can be called here (Linux, libc loadable through jnr-ffi). */
    public static boolean isAvailable() {
        return Native.unavailabilityCause() == null;
    }

    /** Why {@link #isAvailable()} is false; null when it is true. */
    public static String unavailabilityCause() {
        return Native.unavailabilityCause();
    }

    /**
     * A non-blocking, close-on-exec pipe: {@code {readFd, writeFd}}. Its capacity is raised to {@code capacity}
     * bytes when the kernel allows (an unprivileged process is capped by /proc/sys/fs/pipe-max-size); a refused
     * raise keeps the default of 64 KiB, which still works, in more steps.
     */
    public static int[] pipe(int capacity) throws IOException {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: must be positive, got " + capacity);
        }
        LibC.Calls libc = Native.libc();
        int[] fds = new int[2];
        if (libc.pipe2(fds, Native.O_NONBLOCK | Native.O_CLOEXEC) < 0) {
            throw new ErrnoException("pipe2", Native.errno());
        }
        libc.fcntl(fds[1], Native.F_SETPIPE_SZ, capacity); // best effort, see above
        return fds;
    }

    /** The capacity of a pipe in bytes. */
    public static int pipeCapacity(int pipeFd) throws IOException {
        int size = Native.libc().fcntl(pipeFd, Native.F_GETPIPE_SZ, 0);
        if (size < 0) {
            throw new ErrnoException("fcntl(" + pipeFd + ", F_GETPIPE_SZ)", Native.errno());
        }
        return size;
    }

    /**
     * Moves up to {@code max} bytes from {@code from} to {@code to}; one of them must be a pipe. Returns the bytes
     * moved, 0 at end of stream (the source is a socket whose peer sent FIN, or a pipe whose writers are gone), or
     * {@link #WOULD_BLOCK}. EINTR is retried.
     */
    public static long splice(int from, int to, long max) throws IOException {
        if (max <= 0) {
            // the kernel answers 0, which reads as end of stream
            throw new IllegalArgumentException("max: must be positive, got " + max);
        }
        LibC.Calls libc = Native.libc();
        for (;;) {
            long moved = libc.splice(from, null, to, null, max, SPLICE_FLAGS);
            if (moved >= 0) {
                return moved;
            }
            int errno = Native.errno();
            if (errno == Errno.EAGAIN) {
                return WOULD_BLOCK;
            }
            if (errno != Errno.EINTR) {
                throw new ErrnoException("splice(" + from + ", " + to + ")", errno);
            }
        }
    }

    /** {@code shutdown(SHUT_WR)}: the peer reads end of stream once the bytes already sent have arrived. */
    public static void shutdownOutput(int socketFd) throws IOException {
        if (Native.libc().shutdown(socketFd, Native.SHUT_WR) < 0) {
            throw new ErrnoException("shutdown(" + socketFd + ", SHUT_WR)", Native.errno());
        }
    }

    /**
     * A second, close-on-exec descriptor for the same open socket: the socket stays open until both are closed,
     * which is how a socket changes owner without its connection noticing.
     */
    public static int dup(int fd) throws IOException {
        int copy = Native.libc().fcntl(fd, Native.F_DUPFD_CLOEXEC, 0);
        if (copy < 0) {
            throw new ErrnoException("fcntl(" + fd + ", F_DUPFD_CLOEXEC)", Native.errno());
        }
        return copy;
    }

    /** Closes a descriptor. Errors are not reported: after close(2) fails the descriptor is released anyway. */
    public static void close(int fd) {
        Native.libc().close(fd);
    }

    /** Closes a socket with a reset instead of a FIN (SO_LINGER on, timeout 0): its peer sees ECONNRESET. */
    public static void closeWithReset(int socketFd) {
        byte[] linger = {1, 0, 0, 0, 0, 0, 0, 0}; // struct linger { int l_onoff = 1; int l_linger = 0; }, little-endian
        LibC.Calls libc = Native.libc();
        libc.setsockopt(socketFd, Native.SOL_SOCKET, Native.SO_LINGER, linger, linger.length);
        libc.close(socketFd);
    }

    /** For tests and Epoll: a direct buffer of {@code size} bytes owned by the garbage collector. */
    static Pointer buffer(int size) {
        return jnr.ffi.Memory.allocateDirect(Native.runtime(), size, true);
    }
}
