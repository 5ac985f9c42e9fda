package dev.ferry.userspace.forward;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * The handler on each of a {@link TcpConnection}'s two channels: hands every event to the connection, saying which
 * side it came from. Runs on the connection's event loop.
 */
final class Relay extends ChannelInboundHandlerAdapter {

    private final TcpConnection connection;
    private final boolean client;

    Relay(TcpConnection connection, boolean client) {
        this.connection = connection;
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        connection.read(client, (ByteBuf) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        connection.readComplete(client);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            connection.writable(client);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            connection.inputShutdown(client);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connection.failed(client, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.inactive(client);
    }
}
