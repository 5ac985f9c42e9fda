package dev.ferry.proxy.forward;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;

/** Turns a failed bind into the java.net.BindException the API promises (epoll reports a NativeIoException). */
final class Binding {

    private Binding() {
    }

    static IOException failure(InetSocketAddress bind, Throwable cause) {
        if (cause instanceof BindException e) {
            return e;
        }
        BindException e = new BindException("cannot bind " + bind + ": " + cause.getMessage());
        e.initCause(cause);
        return e;
    }
}
