package dev.ferry.proxy.health;

import dev.ferry.core.NamespacedName;
import dev.ferry.proxy.http.HttpEndpoint;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;

import java.nio.charset.StandardCharsets;
import java.util.Map;
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
            HttpEndpoint.send(ctx, request, 400, "text/plain; charset=utf-8", new byte[0], Map.of()); // then closes
            return;
        }
        OptionalInt count = localEndpoints.apply(service);
        if (count.isEmpty()) {
            ctx.close(); // the server is closing: the Service is gone or moved to another port
            return;
        }
        HealthCheckReply reply = HealthCheckReply.of(service, count.getAsInt(), proxyHealthy.getAsBoolean());
        HttpEndpoint.send(ctx, request, reply.status(), HealthCheckReply.CONTENT_TYPE,
                reply.body().getBytes(StandardCharsets.UTF_8), Map.of(HealthCheckReply.WEIGHT_HEADER, reply.localEndpoints()));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a broken client connection concerns only that client
    }
}
