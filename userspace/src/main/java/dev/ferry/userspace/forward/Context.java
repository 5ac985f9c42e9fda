package dev.ferry.userspace.forward;

import io.netty.channel.EventLoopGroup;

/**
 * What every listener of a {@link Forwarders} shares: the transport, its event loops, the splice pumps (null when
 * connections never leave the Netty data path) and the tunables.
 */
record Context(Transport transport, EventLoopGroup group, SplicePumps pumps, ForwarderConfig config) {
}
