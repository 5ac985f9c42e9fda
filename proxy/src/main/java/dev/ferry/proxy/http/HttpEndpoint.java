package dev.ferry.proxy.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A small HTTP/1.1 server for the proxy's own endpoints (health, metrics): every request is
 * answered by a {@link Handler} from its method and path. Netty, not a thread per connection, so
 * clients that connect and stall cannot hold up the kubelet's probes or a scrape; a connection
 * idle for a minute is closed.
 *
 * <p>Threads: one Netty event loop thread (named by the caller) accepts, reads and answers; the
 * handler runs there and must not block. Failures: a failed bind is thrown from {@link #start}; a
 * handler that throws answers 500 for that request only; a broken connection concerns only its
 * client.
 */
public final class HttpEndpoint implements AutoCloseable {

    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    private static final int IDLE_SECONDS = 60;
    private static final long BIND_TIMEOUT_MS = 5000;

    /** An answer: status, Content-Type and body. */
    public record Reply(int status, String contentType, byte[] body) {
        public Reply {
            Objects.requireNonNull(contentType, "contentType");
            Objects.requireNonNull(body, "body");
        }

        public static Reply text(int status, String text) {
            return new Reply(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
        }

        public static Reply notFound() {
            return text(404, "404 page not found\n");
        }
    }

    /** Answers one request; runs on the event loop. */
    public interface Handler {
        Reply answer(String method, String path);
    }

    private final EventLoopGroup loop;
    private final Channel listener;

    private HttpEndpoint(EventLoopGroup loop, Channel listener) {
        this.loop = loop;
        this.listener = listener;
    }

    /**
     * Listens on {@code address} (port 0: any free port) until closed.
     *
     * @throws IOException when the address cannot be bound
     */
    public static HttpEndpoint start(InetSocketAddress address, String threadName, Handler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        EventLoopGroup loop = new NioEventLoopGroup(1, new DefaultThreadFactory(threadName, true));
        ChannelFuture bound = new ServerBootstrap()
                .group(loop)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(IDLE_SECONDS), new HttpServerCodec(),
                                new HttpObjectAggregator(MAX_REQUEST_BYTES), new Answering(handler));
                    }
                })
                .bind(address);
        boolean done = bound.awaitUninterruptibly(BIND_TIMEOUT_MS);
        if (!done || !bound.isSuccess()) {
            bound.channel().close();
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            Throwable cause = bound.cause();
            throw new IOException(!done ? "bind timed out"
                    : cause == null || cause.getMessage() == null ? String.valueOf(cause) : cause.getMessage(), cause);
        }
        return new HttpEndpoint(loop, bound.channel());
    }

    /** Where it listens (with the port chosen when 0 was asked). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().awaitUninterruptibly(BIND_TIMEOUT_MS);
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /**
     * Writes one response (no body for HEAD) with upstream's nosniff header and {@code headers}; keeps the connection
     * open when the client asked to and its request parsed, else closes it once written. Event loop thread only.
     */
    public static void send(ChannelHandlerContext ctx, FullHttpRequest request, int status, String contentType, byte[] body,
                     Map<String, Object> headers) {
        boolean head = request.method().equals(HttpMethod.HEAD);
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(),
                HttpResponseStatus.valueOf(status), head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .set("X-Content-Type-Options", "nosniff")
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        headers.forEach(response.headers()::set);
        if (HttpUtil.isKeepAlive(request) && !request.decoderResult().isFailure()) {
            if (!request.protocolVersion().isKeepAliveDefault()) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** One connection's requests, answered in order. */
    private static final class Answering extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Handler handler;

        Answering(Handler handler) {
            this.handler = handler;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            Reply reply;
            if (request.decoderResult().isFailure()) {
                reply = Reply.text(400, "400 bad request\n");
            } else {
                try {
                    reply = handler.answer(request.method().name(), new QueryStringDecoder(request.uri()).path());
                } catch (RuntimeException e) {
                    reply = Reply.text(500, "500 internal error: " + e + "\n");
                }
            }
            send(ctx, request, reply.status(), reply.contentType(), reply.body(), Map.of());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a broken or idle client connection concerns only that client
        }
    }
}
