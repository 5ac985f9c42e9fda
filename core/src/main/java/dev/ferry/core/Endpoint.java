package dev.ferry.core;

import java.net.InetAddress;
import java.util.Objects;
import java.util.Set;

/**
 * One endpoint of a service port, with the conditions and hints selection needs.
 *
 * @param local      the endpoint's nodeName is this node
 * @param zoneHints  hints.forZones, empty when none
 * @param nodeHints  hints.forNodes, empty when none
 */
public record Endpoint(
        InetAddress ip,
        int port,
        boolean ready,
        boolean serving,
        boolean terminating,
        String nodeName,
        boolean local,
        Set<String> zoneHints,
        Set<String> nodeHints) {

    public Endpoint {
        Objects.requireNonNull(ip, "ip");
        nodeName = nodeName == null ? "" : nodeName;
        zoneHints = Set.copyOf(zoneHints);
        nodeHints = Set.copyOf(nodeHints);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range 1..65535");
        }
    }

    /** A ready endpoint with no node and no hints. */
    public static Endpoint ready(InetAddress ip, int port) {
        return new Endpoint(ip, port, true, true, false, "", false, Set.of(), Set.of());
    }

    /** "ip:port" ("[ip]:port" for IPv6): the endpoint's identity, in comments and chain-name hashes. */
    public String hostPort() {
        return IpAddresses.hostPort(ip, port);
    }

    public IpFamily family() {
        return IpFamily.of(ip);
    }

    @Override
    public String toString() {
        return hostPort();
    }
}
