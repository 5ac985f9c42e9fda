package dev.ferry.nativeio;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * Loads libc once, on first use. When that fails (no native stub for this platform, a JVM
 * without native access), every caller gets the same cause instead of a linkage error.
 */
final class Native {

    // Linux constants (x86_64 and aarch64 agree on all of these).
    static final int AF_NETLINK = 16;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int CLONE_NEWNET = 0x40000000;
    static final int SOL_SOCKET = 1;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    /** SO_SNDBUF beyond net.core.wmem_max; needs CAP_NET_ADMIN. */
    static final int SO_SNDBUFFORCE = 32;
    static final int SO_RCVTIMEO = 20;
    static final int SO_SNDTIMEO = 21;
    static final int SOL_NETLINK = 270;
    static final int NETLINK_CAP_ACK = 10;
    static final int NETLINK_EXT_ACK = 11;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_DONTWAIT = 0x40;
    static final int SO_LINGER = 13;
    static final int O_NONBLOCK = 0x800;
    static final int F_DUPFD_CLOEXEC = 1030;
    static final int F_SETPIPE_SZ = 1031;
    static final int F_GETPIPE_SZ = 1032;
    static final int SPLICE_F_MOVE = 1;
    static final int SPLICE_F_NONBLOCK = 2;
    static final int SHUT_WR = 1;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;

    private static final LibC.Calls LIBC;
    private static final Runtime RUNTIME;
    private static final String UNAVAILABLE;

    static {
        LibC.Calls libc = null;
        Runtime runtime = null;
        String cause = null;
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            cause = "netlink needs Linux, this is " + System.getProperty("os.name");
        } else {
            try {
                libc = LibraryLoader.create(LibC.Calls.class).failImmediately().load("c");
                runtime = Runtime.getRuntime(libc);
            } catch (Throwable e) { // UnsatisfiedLinkError, a missing jffi stub, or a security manager
                libc = null;
                cause = "cannot load libc through jnr-ffi: " + e;
            }
        }
        LIBC = libc;
        RUNTIME = runtime;
        UNAVAILABLE = cause;
    }

    private Native() {
    }

    /** Null when libc is usable. */
    static String unavailabilityCause() {
        return UNAVAILABLE;
    }

    static LibC.Calls libc() {
        if (LIBC == null) {
            throw new UnsupportedOperationException(UNAVAILABLE);
        }
        return LIBC;
    }

    static Runtime runtime() {
        libc();
        return RUNTIME;
    }

    /** errno of the last call on this thread. */
    static int errno() {
        return LastError.getLastError(RUNTIME);
    }

    /** "No such file or directory (ENOENT, errno 2)". */
    static String describe(int errno) {
        String text;
        try {
            text = LIBC == null ? null : LIBC.strerror(errno);
        } catch (RuntimeException e) {
            text = null;
        }
        String name = Errno.name(errno);
        return (text == null ? "error" : text) + " (" + (name == null ? "" : name + ", ") + "errno " + errno + ")";
    }
}
