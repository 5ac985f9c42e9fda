package dev.ferry.ipvs.netlink;

import dev.ferry.core.IpAddresses;

import java.net.InetAddress;
import java.util.Objects;

/**
 * One real server (destination) of a virtual service. We only ever write {@link ForwardMethod#MASQUERADE}
 * real servers with no connection thresholds; a listing reports what the kernel has, including the connection
 * counts graceful termination waits on (always 0 in a server we build ourselves).
 */
public record RealServer(InetAddress address, int port, int weight, ForwardMethod forwardMethod,
                         int activeConnections, int inactiveConnections) {

    /** IP_VS_CONN_F_* forwarding methods (the low three bits of a destination's connection flags). */
    public enum ForwardMethod {
        MASQUERADE(0), LOCAL_NODE(1), TUNNEL(2), DIRECT_ROUTE(3), BYPASS(4);

        final int value;

        ForwardMethod(int value) {
            this.value = value;
        }

        static ForwardMethod of(int value) {
            for (ForwardMethod m : values()) {
                if (m.value == value) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown IPVS forwarding method " + value);
        }
    }

    public RealServer {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(forwardMethod, "forwardMethod");
        String what = "real server " + IpAddresses.hostPort(address, port);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + ": port " + port + " out of range 1..65535");
        }
        if (weight < 0) {
            throw new IllegalArgumentException(what + ": weight " + weight + " < 0");
        }
        if (activeConnections < 0 || inactiveConnections < 0) {
            throw new IllegalArgumentException(what + ": negative connection count");
        }
    }

    /** A masquerading real server as we add it. */
    public static RealServer of(InetAddress address, int port, int weight) {
        return new RealServer(address, port, weight, ForwardMethod.MASQUERADE, 0, 0);
    }

    public RealServer withWeight(int newWeight) {
        return new RealServer(address, port, newWeight, forwardMethod, activeConnections, inactiveConnections);
    }

    /** "10.244.1.5:8080": how error messages name the real server. */
    String label() {
        return IpAddresses.hostPort(address, port);
    }
}
