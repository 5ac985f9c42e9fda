package dev.ferry.nativeio;

import java.util.Map;

/** Symbolic names of the errno values netlink and splice users meet, for messages a person can search. */
public final class Errno {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EBADF = 9;
    public static final int EPIPE = 32;
    public static final int ECONNRESET = 104;
    public static final int ENOBUFS = 105;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int EPROTONOSUPPORT = 93;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(EPERM, "EPERM"), Map.entry(ENOENT, "ENOENT"), Map.entry(ESRCH, "ESRCH"),
            Map.entry(EINTR, "EINTR"), Map.entry(EAGAIN, "EAGAIN"), Map.entry(ENOMEM, "ENOMEM"),
            Map.entry(EACCES, "EACCES"), Map.entry(EBUSY, "EBUSY"), Map.entry(EEXIST, "EEXIST"),
            Map.entry(ENODEV, "ENODEV"), Map.entry(EINVAL, "EINVAL"), Map.entry(ENOBUFS, "ENOBUFS"),
            Map.entry(EOPNOTSUPP, "EOPNOTSUPP"), Map.entry(EAFNOSUPPORT, "EAFNOSUPPORT"),
            Map.entry(EPROTONOSUPPORT, "EPROTONOSUPPORT"), Map.entry(EBADF, "EBADF"), Map.entry(EPIPE, "EPIPE"),
            Map.entry(ECONNRESET, "ECONNRESET"));

    private Errno() {
    }

    /** "ENOENT" for 2; null for a value not listed here. */
    public static String name(int errno) {
        return NAMES.get(errno);
    }
}
