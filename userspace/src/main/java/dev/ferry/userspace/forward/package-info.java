/**
 * Userspace mode's forwarder: per service port, listeners in this process that pass TCP connections and UDP
 * sessions to the Service's endpoints (round robin, optional ClientIP affinity).
 *
 * <p>Public surface: {@link dev.ferry.userspace.forward.Forwarders} (event loops, one per process),
 * {@link dev.ferry.userspace.forward.ServicePortForwarder} (one per service port: listeners + endpoints),
 * {@link dev.ferry.userspace.forward.ForwarderConfig}, {@link dev.ferry.userspace.forward.ForwarderStats}.
 * Everything else is package-private.
 *
 * <p>Data path: a TCP connection starts by copying through pooled direct buffers (read/write syscalls, AUTO_READ
 * off, reads up to 1 MiB, backpressure through the write water mark; see {@code TcpConnection}). Request/response
 * traffic stays there. Once one read brings {@link dev.ferry.userspace.forward.ForwarderConfig#spliceReadBytes()} (64 KiB:
 * a bulk transfer), the connection's two sockets move to a {@code SplicePump}: one thread per event loop that moves
 * bytes socket → pipe → socket with splice(2) (through {@code dev.ferry.nativeio.Splice}), so they never enter the
 * JVM. Measured in docs/BENCHMARKS.md ("Userspace forwarder").
 *
 * <p>Why our own pump and not Netty's {@code AbstractEpollStreamChannel.spliceTo}: in Netty 4.1.115, on a peer's FIN
 * (EPOLLRDHUP) that channel splices one chunk and then shuts its input down, dropping what is still queued in the
 * socket (a 128 MiB transfer ending with a FIN arrived 192 KiB short); its default 64 KiB pipes and one epoll
 * modification per chunk made it no faster than 1 MiB reads; and spliced bytes bypass the pipeline, so they could not
 * be counted. The pump watches each socket once, edge-triggered, drains to EAGAIN, passes a FIN only once its pipe is
 * empty, and counts every byte.
 */
package dev.ferry.userspace.forward;
