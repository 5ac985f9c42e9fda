package dev.ferry.userspace.forward;

import dev.ferry.core.IpAddresses;
import dev.ferry.nativeio.Splice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One accepted client and its backend connection.
 *
 * <p>Threads: everything here runs on the client's event loop. The backend is connected on that same loop, so the
 * handlers of both channels, the connect callbacks and the idle check never race and no field needs a lock.
 *
 * <p>Data path (HexDumpProxy style): both channels have AUTO_READ off; each read is written to the other side and,
 * once the batch is flushed, the next read is requested only if the other side is still writable (below the
 * high water mark); otherwise the read is requested when that side's writes drain (writability changed). So the
 * proxy holds at most about a water mark of bytes per direction, however slow a reader is.
 *
 * <p>Failure: a refused, unreachable or timed-out connect counts a failure for that endpoint and tries the next
 * endpoint with the next timeout; after the last attempt (or with no endpoint at all) the client is reset. An I/O
 * error on either side, the idle timeout, or a close closes both sides. A FIN is passed on as a FIN (half-close)
 * once everything before it has been written; the connection closes when both directions are finished.
 *
 * <p>Splice: once one read brings {@code spliceReadBytes} (the sender is that far ahead: a bulk transfer, not a
 * request/response exchange), the connection moves at the first moment, checked after each flush and each drain, when
 * nothing is queued on either side: this hands duplicates of both sockets to a {@link SplicePump}, where the bytes
 * move through pipes inside the kernel, and closes the Netty channels (the sockets stay open through the
 * duplicates). Nothing is lost in the switch: Netty holds no bytes it has read and not yet written, and what it has
 * not read stays in the kernel for the pump. Until that moment the connection keeps relaying here: pausing reads to
 * let the queues drain could deadlock with a peer that reads only as fast as it can write (an echo). A connection
 * that is already half-closed, or whose switch fails, stays on this path.
 */
final class TcpConnection {

    private static final Logger log = LoggerFactory.getLogger(TcpConnection.class);
    private static final int CLIENT_TO_BACKEND_DONE = 1;
    private static final int BACKEND_TO_CLIENT_DONE = 2;

    private final Channel client;
    private final InetSocketAddress clientAddress;
    private final Context context;
    private final Balancer balancer;
    private final ForwarderStats stats;
    private final ChannelGroup channels;
    private final Set<SplicedConnection> spliced;
    private final long idleNanos;
    private final Runnable idleCheck = this::checkIdle;

    private Channel backend;
    private int attempt;
    /** Bytes the client sent before the backend was connected (epoll reads once on a peer's FIN, even unasked). */
    private CompositeByteBuf early;
    private boolean clientEofEarly;
    private int done;
    private boolean closed;
    private boolean finishing; // a side closed at its FIN; the other is being flushed before close
    private long lastActivity;
    private ScheduledFuture<?> idleTask;
    /** Splice is due: no more reads here, hand over once the queued writes are out. */
    private boolean spliceDue;
    private boolean handedOver;
    /** A FIN or a failed switch: this connection finishes on the Netty path. */
    private boolean neverSplice;

    TcpConnection(Channel client, Context context, Balancer balancer, ForwarderStats stats, ChannelGroup channels,
                  Set<SplicedConnection> spliced) {
        this.client = client;
        this.clientAddress = (InetSocketAddress) client.remoteAddress();
        this.context = context;
        this.balancer = balancer;
        this.stats = stats;
        this.channels = channels;
        this.spliced = spliced;
        this.idleNanos = context.config().tcpIdleTimeout().toNanos();
    }

    /** Called once, on the client's loop, right after accept. */
    void start() {
        if (clientAddress == null) {
            client.close(); // the client reset before we got here: nothing to forward, nothing to count
            return;
        }
        stats.opened();
        client.closeFuture().addListener(f -> {
            if (!handedOver) {
                stats.closed();
                inactive(true);
            }
        });
        client.pipeline().addLast(new Relay(this, true));
        lastActivity = System.nanoTime();
        idleTask = client.eventLoop().schedule(idleCheck, idleNanos, TimeUnit.NANOSECONDS);
        InetSocketAddress endpoint = balancer.choose(clientAddress.getAddress());
        if (endpoint == null) {
            reset();
            return;
        }
        connect(endpoint);
    }

    private void connect(InetSocketAddress endpoint) {
        // No Bootstrap: building the channel by hand skips its option maps, resolver and extra connect task, which
        // showed in the new-connections-per-second rate. We are on the client's loop, so register() completes here.
        Channel channel = context.transport().newSocketChannel(endpoint.getAddress());
        ChannelConfig config = channel.config();
        // TCP_NODELAY: Netty's socket channels (epoll and NIO) switch it on in their config already; setting it
        // again would cost a syscall per connection.
        config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        config.setAutoRead(false);
        config.setWriteBufferWaterMark(TcpListener.WATER_MARK);
        config.setRecvByteBufAllocator(TcpListener.READS);
        Duration timeout = context.config().connectTimeouts().get(attempt);
        config.setConnectTimeoutMillis((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        channel.pipeline().addLast(new Relay(this, false));
        client.eventLoop().register(channel);
        channel.connect(endpoint).addListener((ChannelFuture f) -> connected(f, endpoint));
    }

    private void connected(ChannelFuture f, InetSocketAddress endpoint) {
        if (f.isSuccess()) {
            if (closed) {
                f.channel().close();
                return;
            }
            backend = f.channel();
            channels.add(backend);
            if (early != null) {
                backend.writeAndFlush(early, backend.voidPromise());
                early = null;
            }
            if (clientEofEarly) {
                inputShutdown(true);
            }
            if (context.pumps() != null && context.config().spliceReadBytes() == 0 && !neverSplice) {
                spliceDue = true;
                if (handOverIfIdle()) {
                    return;
                }
            }
            client.read();
            backend.read();
            return;
        }
        // Netty leaves a channel whose connect failed open (Bootstrap would add CLOSE_ON_FAILURE): close it, without
        // its Relay, whose events would otherwise close this connection while the next endpoint is being tried.
        Channel failed = f.channel();
        failed.pipeline().remove(Relay.class);
        failed.close();
        stats.connectFailed(endpoint);
        log.debug("connect from {} to {} failed (attempt {}): {}",
                IpAddresses.hostPort(clientAddress), IpAddresses.hostPort(endpoint), attempt + 1, f.cause().toString());
        if (closed) {
            return;
        }
        attempt++;
        InetSocketAddress next = attempt < context.config().connectTimeouts().size()
                ? balancer.next(clientAddress.getAddress())
                : null;
        if (next == null) {
            reset();
            return;
        }
        connect(next);
    }

    void read(boolean fromClient, ByteBuf data) {
        int bytes = data.readableBytes();
        if (context.pumps() != null && !spliceDue && !neverSplice && bytes >= context.config().spliceReadBytes()) {
            spliceDue = true;
        }
        if (fromClient) {
            stats.bytesIn.add(bytes);
        } else {
            stats.bytesOut.add(bytes);
        }
        Channel to = fromClient ? backend : client;
        if (to == null) {
            if (early == null) {
                early = client.alloc().compositeBuffer();
            }
            early.addComponent(true, data);
            return;
        }
        // voidPromise: no promise object per write; a failed write fires exceptionCaught on that side instead.
        to.write(data, to.voidPromise());
    }

    void readComplete(boolean fromClient) {
        lastActivity = System.nanoTime();
        Channel to = fromClient ? backend : client;
        if (to == null) {
            return;
        }
        to.flush();
        if (spliceDue && handOverIfIdle()) {
            return;
        }
        if (to.isWritable()) {
            (fromClient ? client : backend).read();
        }
    }

    /** That side's queued writes drained below the low water mark: read the other side again. */
    void writable(boolean clientSide) {
        Channel from = clientSide ? backend : client;
        if (spliceDue && handOverIfIdle()) {
            return;
        }
        if (from != null) {
            from.read();
        }
    }

    /**
     * Hands the connection to a splice pump if nothing is queued on either side now; returns whether it did (then
     * this object is done with the connection). Otherwise the caller goes on relaying and a later flush or drain
     * tries again.
     */
    private boolean handOverIfIdle() {
        if (closed || done != 0 || finishing || backend == null) {
            stayOnThisPath(); // half-closed (or closing): finish here, where the FIN handling is
            return false;
        }
        if (queued(client) || queued(backend)) {
            return false;
        }
        handOver();
        return handedOver;
    }

    /** Splice is off for good for this connection. */
    private void stayOnThisPath() {
        neverSplice = true;
        spliceDue = false;
    }

    private static boolean queued(Channel channel) {
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        return buffer != null && !buffer.isEmpty();
    }

    private void handOver() {
        int clientFd = -1;
        int backendFd;
        try {
            clientFd = Splice.dup(((EpollSocketChannel) client).fd().intValue());
            backendFd = Splice.dup(((EpollSocketChannel) backend).fd().intValue());
        } catch (IOException e) {
            if (clientFd >= 0) {
                Splice.close(clientFd);
            }
            log.debug("{} stays on the Netty path: {}", this, e.getMessage());
            stayOnThisPath();
            return;
        }
        String name = toString();
        handedOver = true;
        closed = true; // for this object: the pump owns the connection now
        if (idleTask != null) {
            idleTask.cancel(false);
        }
        // Netty closes its descriptors only; the sockets live on in ours, so neither peer notices.
        client.close();
        backend.close();
        SplicePump pump = context.pumps().next();
        SplicedConnection connection;
        try {
            connection = SplicedConnection.create(pump, clientFd, backendFd, context.pumps().pipeCapacity(), stats,
                    spliced, name);
        } catch (IOException e) {
            log.warn("{} closed: cannot splice it: {}", name, e.getMessage()); // create() closed both sockets
            return;
        }
        stats.spliced.increment();
        pump.adopt(connection);
    }

    /** A FIN arrived: pass it on once everything read before it has been written (shutdownOutput drops queued writes). */
    void inputShutdown(boolean fromClient) {
        if (handedOver) {
            return;
        }
        stayOnThisPath();
        Channel to = fromClient ? backend : client;
        if (to == null) {
            clientEofEarly = true;
            return;
        }
        int direction = fromClient ? CLIENT_TO_BACKEND_DONE : BACKEND_TO_CLIENT_DONE;
        int other = fromClient ? BACKEND_TO_CLIENT_DONE : CLIENT_TO_BACKEND_DONE;
        to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
            // With the other direction finished too, closing sends the same FIN without a
            // shutdown() first: one syscall less on every short-lived connection.
            if (!written.isSuccess() || (done & other) != 0) {
                close();
                return;
            }
            ((DuplexChannel) to).shutdownOutput().addListener(shut -> {
                done |= direction;
                if (!shut.isSuccess() || done == (CLIENT_TO_BACKEND_DONE | BACKEND_TO_CLIENT_DONE)) {
                    close();
                } else {
                    // Only to's input is left. At its FIN Netty would shutdown(SHUT_RD) a socket the
                    // peer has usually closed already: ENOTCONN, and an exception with a stack trace
                    // on every short-lived connection. Without half-closure Netty closes the channel
                    // instead, and inactive() finishes the connection.
                    to.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
                }
            });
        });
    }

    /**
     * A channel went inactive. If we did not close it, Netty closed it at its peer's FIN (see
     * {@link #inputShutdown}): what was read before that FIN is written out, then both close.
     */
    void inactive(boolean clientSide) {
        if (closed || finishing) {
            return;
        }
        finishing = true;
        Channel other = clientSide ? backend : client;
        if (other == null || !other.isActive()) {
            close();
            return;
        }
        other.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> close());
    }

    void failed(boolean fromClient, Throwable cause) {
        log.debug("{} side of {} failed: {}", fromClient ? "client" : "backend", IpAddresses.hostPort(clientAddress),
                cause.toString());
        close();
    }

    void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (idleTask != null) {
            idleTask.cancel(false);
        }
        if (early != null) {
            early.release();
            early = null;
        }
        client.close();
        if (backend != null) {
            backend.close();
        }
    }

    /** No endpoint could take the client: reset it rather than accept-then-FIN, so it fails fast and clearly. */
    private void reset() {
        client.config().setOption(ChannelOption.SO_LINGER, 0);
        close();
    }

    private void checkIdle() {
        if (closed) {
            return;
        }
        long idleFor = System.nanoTime() - lastActivity;
        if (idleFor >= idleNanos) {
            log.debug("closing {}: idle for {}", IpAddresses.hostPort(clientAddress), Duration.ofNanos(idleFor));
            close();
        } else {
            idleTask = client.eventLoop().schedule(idleCheck, idleNanos - idleFor, TimeUnit.NANOSECONDS);
        }
    }

    /** Not used on the data path; names the connection in logs and test failures. */
    @Override
    public String toString() {
        return "TcpConnection[" + IpAddresses.hostPort(clientAddress) + " -> "
                + (backend == null ? "?" : IpAddresses.hostPort((InetSocketAddress) backend.remoteAddress())) + "]";
    }
}
