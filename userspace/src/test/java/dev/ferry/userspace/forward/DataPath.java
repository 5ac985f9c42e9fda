package dev.ferry.userspace.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The ways a TCP connection's bytes can move, for tests that must hold on each. */
public enum DataPath {
    /** Native epoll, bytes copied through the JVM (splice never). */
    EPOLL_COPY(Transport.EPOLL, -1),
    /** Native epoll, every connection handed to a splice pump right after its backend connects. */
    EPOLL_SPLICE(Transport.EPOLL, 0),
    /** NIO: no splice possible. */
    NIO(Transport.NIO, -1);

    final Transport transport;
    private final long spliceReadBytes;

    DataPath(Transport transport, long spliceReadBytes) {
        this.transport = transport;
        this.spliceReadBytes = spliceReadBytes;
    }

    ForwarderConfig configure(ForwarderConfig config) {
        return config.withSpliceReadBytes(spliceReadBytes);
    }

    /** Forwarders on this path (skipping the test where epoll is unavailable); the caller closes them. */
    public Forwarders open(ForwarderConfig config) {
        if (transport == Transport.EPOLL) {
            assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(), "native epoll is not available here");
        }
        Forwarders forwarders = new Forwarders(configure(config), transport);
        assertEquals(transport.label, forwarders.transport());
        assertEquals(spliceReadBytes >= 0, forwarders.splices(), "splice pumps running");
        return forwarders;
    }
}
