/**
 * Userspace mode's forwarder: per service port, listeners in this process that pass TCP connections and UDP
 * sessions to the Service's endpoints (round robin, optional ClientIP affinity).
 *
 * <p>Public surface: {@link dev.ferry.proxy.forward.Forwarders} (event loops, one per process),
 * {@link dev.ferry.proxy.forward.ServicePortForwarder} (one per service port: listeners + endpoints),
 * {@link dev.ferry.proxy.forward.ForwarderConfig}, {@link dev.ferry.proxy.forward.ForwarderStats}.
 * Everything else is package-private.
 *
 * <p>Data path: TCP bytes are copied through pooled direct buffers by read/write syscalls (AUTO_READ off, reads up
 * to 1 MiB, backpressure through the write water mark); see {@code TcpConnection}.
 *
 * <p>Why not epoll splice ({@code AbstractEpollStreamChannel.spliceTo}): tried and measured (iperf3 through the
 * forwarder on loopback, 2 GiB per run, 5 runs each, on a shared 2-core machine): medians 12.0 Gbit/s with splice,
 * 11.6 with 1 MiB reads, 9.0 with Netty's default 64 KiB reads; CPU for the 10 GiB: 5.9 s, 6.7 s and 9.9 s. So
 * splice only beats small reads, and costs correctness in Netty 4.1.115: on a peer's FIN (EPOLLRDHUP) the channel
 * splices one chunk and then shuts its input down, dropping what is still queued in the socket (a 128 MiB transfer
 * ending with a FIN arrived 192 KiB short), and spliced bytes bypass the pipeline, so they could not be counted.
 */
package dev.ferry.proxy.forward;
