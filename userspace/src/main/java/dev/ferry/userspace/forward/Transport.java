package dev.ferry.userspace.forward;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.concurrent.ThreadFactory;

/** Native epoll (Linux, the fast path) or NIO (anywhere): the event loops and channel types to use together. */
enum Transport {
    EPOLL("epoll") {
        @Override
        EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
            return new EpollEventLoopGroup(threads, threadFactory);
        }

        @Override
        ServerChannel newServerChannel(InetAddress bind) {
            return new EpollServerSocketChannel(family(bind));
        }

        @Override
        Channel newSocketChannel(InetAddress peer) {
            return new EpollSocketChannel(family(peer));
        }

        @Override
        Channel newDatagramChannel() {
            return new EpollDatagramChannel();
        }
    },
    NIO("nio") {
        @Override
        EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
            return new NioEventLoopGroup(threads, threadFactory);
        }

        @Override
        ServerChannel newServerChannel(InetAddress bind) {
            return new NioServerSocketChannel();
        }

        @Override
        Channel newSocketChannel(InetAddress peer) {
            return new NioSocketChannel();
        }

        @Override
        Channel newDatagramChannel() {
            return new NioDatagramChannel();
        }
    };

    final String label;

    Transport(String label) {
        this.label = label;
    }

    abstract EventLoopGroup newGroup(int threads, ThreadFactory threadFactory);

    /** A listening channel for {@code bind}'s family. */
    abstract ServerChannel newServerChannel(InetAddress bind);

    /** A channel to connect to {@code peer}. */
    abstract Channel newSocketChannel(InetAddress peer);

    /**
     * The socket family for an address: IPv4 sockets for IPv4, not Netty's default of a
     * dual-stack IPv6 socket, which costs an extra setsockopt per backend connection and maps
     * every IPv4 address (strace of one proxied connection: 40 syscalls, HAProxy's 18).
     */
    static InternetProtocolFamily family(InetAddress address) {
        return address instanceof Inet4Address ? InternetProtocolFamily.IPv4 : InternetProtocolFamily.IPv6;
    }

    abstract Channel newDatagramChannel();

    static Transport best() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }
}
