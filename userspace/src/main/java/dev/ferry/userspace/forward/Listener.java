package dev.ferry.userspace.forward;

import java.net.InetSocketAddress;

/** One bound socket of a service port (TCP or UDP) with the connections or sessions it accepted. */
interface Listener {

    InetSocketAddress address();

    /** Closes the socket, then every connection/session it accepted; returns once the socket is closed. */
    void close();
}
