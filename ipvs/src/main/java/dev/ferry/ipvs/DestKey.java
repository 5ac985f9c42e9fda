package dev.ferry.ipvs;

import dev.ferry.core.IpAddresses;
import dev.ferry.ipvs.netlink.RealServer;

import java.net.InetAddress;

/** What identifies a real server inside one virtual service: address and port (the weight can be updated). */
record DestKey(InetAddress address, int port) {

    static DestKey of(RealServer rs) {
        return new DestKey(rs.address(), rs.port());
    }

    @Override
    public String toString() {
        return IpAddresses.hostPort(address, port);
    }
}
