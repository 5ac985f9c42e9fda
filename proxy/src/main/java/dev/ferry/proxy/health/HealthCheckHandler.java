package dev.ferry.proxy.health;

import dev.ferry.core.NamespacedName;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Answers every request on one Service's health check node port (any path and method, as
 * upstream's server does) with {@link HealthCheckReply}. Runs on a Netty event loop; reads the
 * current count and proxy health at each request, so it never answers from a stale copy.
 */
final class HealthCheckHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final NamespacedName service;
    private final Function<NamespacedName, OptionalInt> localEndpoints;
    private final BooleanSupplier proxyHealthy;

    /** @param localEndpoints the Service's current count, empty once its server is being closed */
    HealthCheckHandler(NamespacedName service, Function<NamespacedName, OptionalInt> localEndpoints,
                       BooleanSupplier proxyHealthy) {
        this.service = service;
        this.localEndpoints = localEndpoints;
        this.proxyHealthy = proxyHealthy;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            FullHttpResponse bad = new DefaultFullHttpResponse(request.protocolVersion(), HttpResponseStatus.BAD_REQUEST);
            bad.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            ctx.writeAndFlush(bad).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        OptionalInt count = localEndpoints.apply(service);
        if (count.isEmpty()) {
            ctx.close(); // the server is closing: the Service is gone or moved to another port
            return;
        }
        HealthCheckReply reply = HealthCheckReply.of(service, count.getAsInt(), proxyHealthy.getAsBoolean());
        byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(),
                HttpResponseStatus.valueOf(reply.status()),
                request.method().equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HealthCheckReply.CONTENT_TYPE)
                .set("X-Content-Type-Options", "nosniff")
                .set(HealthCheckReply.WEIGHT_HEADER, reply.localEndpoints())
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (keepAlive) {
            if (!request.protocolVersion().isKeepAliveDefault()) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a broken client connection concerns only that client
    }
}
