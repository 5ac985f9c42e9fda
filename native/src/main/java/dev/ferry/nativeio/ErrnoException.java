package dev.ferry.nativeio;

import java.io.IOException;

/** A syscall failed; names the call, its arguments that matter, and the errno. */
public final class ErrnoException extends IOException {

    private static final long serialVersionUID = 1L;

    private final int errno;

    ErrnoException(String call, int errno) {
        super(call + ": " + Native.describe(errno));
        this.errno = errno;
    }

    /** The positive errno value, e.g. {@link Errno#ECONNRESET}. */
    public int errno() {
        return errno;
    }
}
