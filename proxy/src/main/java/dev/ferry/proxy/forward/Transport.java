package dev.ferry.proxy.forward;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.util.concurrent.ThreadFactory;

/** Native epoll (Linux, the fast path) or NIO (anywhere): the event loops and channel types to use together. */
enum Transport {
    EPOLL("epoll") {
        @Override
        EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
            return new EpollEventLoopGroup(threads, threadFactory);
        }

        @Override
        Class<? extends ServerChannel> serverChannel() {
            return EpollServerSocketChannel.class;
        }

        @Override
        Channel newSocketChannel() {
            return new EpollSocketChannel();
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
        Class<? extends ServerChannel> serverChannel() {
            return NioServerSocketChannel.class;
        }

        @Override
        Channel newSocketChannel() {
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

    abstract Class<? extends ServerChannel> serverChannel();

    abstract Channel newSocketChannel();

    abstract Channel newDatagramChannel();

    static Transport best() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }
}
