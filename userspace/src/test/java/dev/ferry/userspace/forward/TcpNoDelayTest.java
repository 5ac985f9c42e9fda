package dev.ferry.userspace.forward;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The forwarder relies on Netty switching TCP_NODELAY on for every socket channel (accepted and connected ones
 * share the config class checked here) instead of paying a syscall per connection to set it again.
 */
class TcpNoDelayTest {

    @ParameterizedTest
    @EnumSource(Transport.class)
    void socketChannelsHaveNagleOff(Transport transport) {
        assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "native epoll is not available here");
        Channel channel = transport.newSocketChannel(java.net.InetAddress.getLoopbackAddress());
        try {
            assertTrue(channel.config().getOption(ChannelOption.TCP_NODELAY));
        } finally {
            channel.unsafe().closeForcibly();
        }
    }
}
