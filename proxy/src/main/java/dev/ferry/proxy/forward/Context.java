package dev.ferry.proxy.forward;

import io.netty.channel.EventLoopGroup;

/** What every listener of a {@link Forwarders} shares: the transport, its event loops and the tunables. */
record Context(Transport transport, EventLoopGroup group, ForwarderConfig config) {
}
