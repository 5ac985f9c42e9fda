package dev.ferry.userspace.forward;

import dev.ferry.core.IpAddresses;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.nio.NioEventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** Bind and unbind details: the exception the API promises, and an address that is free again after close. */
final class Binding {

    private Binding() {
    }

    /** Turns a failed bind into the java.net.BindException the API promises (epoll reports a NativeIoException). */
    static IOException failure(InetSocketAddress bind, Throwable cause) {
        if (cause instanceof BindException e) {
            return e;
        }
        BindException e = new BindException("cannot bind " + IpAddresses.hostPort(bind) + ": " + cause.getMessage());
        e.initCause(cause);
        return e;
    }

    /**
     * Closes a listening channel and returns once its port can be bound again. With NIO the JDK closes a socket
     * registered with a selector only when that selector next selects (deregistration). A task scheduled from the
     * loop runs in a later turn of the loop than the close, and every turn selects first. Must not run on that loop.
     */
    static void closeAndRelease(Channel channel) {
        channel.close().awaitUninterruptibly();
        EventLoop loop = channel.eventLoop();
        if (loop instanceof NioEventLoop && !loop.isShuttingDown()) {
            Future<ScheduledFuture<Object>> scheduled = loop.submit(
                    () -> loop.<Object>schedule(() -> null, 1, TimeUnit.NANOSECONDS)).awaitUninterruptibly();
            if (scheduled.isSuccess()) {
                scheduled.getNow().awaitUninterruptibly();
            }
        }
    }
}
