package dev.ferry.bench.forward;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The request-rate benchmark's backend: an HTTP/1.1 server that answers every request with the
 * same 100-byte body, keeps connections alive unless the client asks to close, and closes after
 * the response when it does. Run as its own process (so it can be pinned with taskset):
 * {@code java -cp benchmarks.jar dev.ferry.bench.forward.HttpBackend [--threads N] host:port...}.
 *
 * Threads: one event loop group (native epoll when available, NIO otherwise) serves every port;
 * the handler keeps no state. A failure to bind exits the process with status 1, which the runner
 * sees as the backend never getting ready.
 */
public final class HttpBackend {

    /** 100 bytes: "ferry-bench " and filler, ending in a newline. */
    static final byte[] BODY = body();

    public static void main(String[] args) throws InterruptedException {
        int threads = 1;
        List<InetSocketAddress> binds = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--threads")) {
                threads = Integer.parseInt(args[++i]);
            } else {
                int colon = args[i].lastIndexOf(':');
                binds.add(new InetSocketAddress(args[i].substring(0, colon), Integer.parseInt(args[i].substring(colon + 1))));
            }
        }
        if (binds.isEmpty()) {
            System.err.println("usage: HttpBackend [--threads N] host:port...");
            System.exit(2);
        }
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = epoll ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ByteBuf body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(BODY.length).writeBytes(BODY));
        ChannelHandler answer = new Answer(body);
        List<Channel> listeners = new ArrayList<>();
        try {
            for (InetSocketAddress bind : binds) {
                listeners.add(new ServerBootstrap().group(group).channel(channelType)
                        .option(ChannelOption.SO_BACKLOG, 4096)
                        .option(ChannelOption.SO_REUSEADDR, true)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel ch) {
                                ch.pipeline().addLast(new HttpServerCodec(), answer);
                            }
                        })
                        .bind(bind).sync().channel());
            }
        } catch (Exception e) {
            System.err.println("HttpBackend: cannot listen: " + e);
            System.exit(1);
        }
        System.out.printf("HttpBackend: %s, %d thread(s), listening on %s%n", epoll ? "epoll" : "nio", threads, binds);
        System.out.flush();
        for (Channel c : listeners) {
            c.closeFuture().sync();
        }
    }

    /** Stateless, so one instance serves every connection. Request bodies (none in the benchmark) are ignored. */
    @ChannelHandler.Sharable
    static final class Answer extends SimpleChannelInboundHandler<Object> {
        private final ByteBuf body;

        Answer(ByteBuf body) {
            this.body = body;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                boolean keepAlive = HttpUtil.isKeepAlive(request);
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        body.duplicate());
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length);
                if (!keepAlive) {
                    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                    ctx.write(response).addListener(ChannelFutureListener.CLOSE);
                } else {
                    ctx.write(response);
                }
            } else if (msg instanceof LastHttpContent) {
                return;
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // one flush per batch of pipelined or coalesced requests
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // a client reset (wrk stopping mid-request) is normal at the end of a run
            ctx.close();
        }
    }

    private static byte[] body() {
        StringBuilder b = new StringBuilder("ferry-bench ");
        while (b.length() < 99) {
            b.append((char) ('a' + b.length() % 26));
        }
        return b.append('\n').toString().getBytes(StandardCharsets.US_ASCII);
    }

    private HttpBackend() {
    }
}
