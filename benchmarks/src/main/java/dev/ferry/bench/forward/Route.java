package dev.ferry.bench.forward;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One way from the load generators to the backends: where the clients connect for HTTP and for
 * bulk, and the forwarding process in between (none for direct). Each forwarder gets its own
 * loopback address, the same ports everywhere, so they can all run at once and the rounds can
 * interleave the paths.
 */
record Route(String key, String label, InetSocketAddress http, InetSocketAddress bulk, List<Procs.Proc> procs) {

    /** CPU time of the forwarding processes so far (clock ticks; 0 for direct). */
    long cpuTicks() {
        return procs.stream().mapToLong(Procs.Proc::cpuTicks).sum();
    }

    static final int HTTP_BACKEND_1 = 18081;
    static final int HTTP_BACKEND_2 = 18082;
    static final int BULK_BACKEND = 15201;
    static final int HTTP_FRONT = 8080;
    static final int BULK_FRONT = 5201;
    static final String BACKEND_IP = "127.0.0.1";

    /** The paths, in table order. */
    static final List<String> ALL =
            List.of("direct", "ferry", "ferry-fwd", "haproxy-1t", "haproxy", "haproxy-splice", "socat");

    static String ip(String key) {
        return switch (key) {
            case "direct" -> BACKEND_IP;
            case "ferry" -> "127.0.0.10";
            case "haproxy-1t" -> "127.0.0.11";
            case "haproxy" -> "127.0.0.12";
            case "socat" -> "127.0.0.13";
            case "ferry-fwd" -> "127.0.0.14";
            case "haproxy-splice" -> "127.0.0.15";
            default -> throw new IllegalArgumentException("unknown path " + key + " (one of " + ALL + ")");
        };
    }

    static InetSocketAddress httpFront(String key) {
        return new InetSocketAddress(ip(key), key.equals("direct") ? HTTP_BACKEND_1 : HTTP_FRONT);
    }

    static InetSocketAddress bulkFront(String key) {
        return new InetSocketAddress(ip(key), key.equals("direct") ? BULK_BACKEND : BULK_FRONT);
    }
}
