package dev.ferry.nativeio;

import java.io.IOException;

/** The kernel (or a syscall) refused a netlink request; names the request and the errno. */
public final class NetlinkException extends IOException {

    private static final long serialVersionUID = 1L;

    private final int errno;

    public NetlinkException(String request, int errno, String detail) {
        super(request + ": " + Native.describe(errno) + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.errno = errno;
    }

    /** The positive errno value, e.g. {@link Errno#ENOENT}. */
    public int errno() {
        return errno;
    }
}
