package dev.ferry.mode.inspect;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;

import java.net.InetAddress;
import java.util.Objects;

/**
 * The packet {@code trace} follows: the first packet of a new connection.
 *
 * @param inInterface where it arrives from another host; null: unknown (the route back to the source is used)
 */
public record TraceRequest(InetAddress source, InetAddress destination, int port, Protocol protocol, String inInterface) {

    public TraceRequest {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(protocol, "protocol");
        if (IpFamily.of(source) != IpFamily.of(destination)) {
            throw new IllegalArgumentException("--src " + IpAddresses.format(source) + " and --dst "
                    + IpAddresses.format(destination) + " are of different families");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--port " + port + " out of range 1..65535");
        }
    }

    public IpFamily family() {
        return IpFamily.of(destination);
    }

    /** "tcp 10.244.1.10 -> 10.96.0.10:80". */
    public String describe() {
        return protocol.lower() + " " + IpAddresses.format(source) + " -> " + IpAddresses.hostPort(destination, port);
    }
}
