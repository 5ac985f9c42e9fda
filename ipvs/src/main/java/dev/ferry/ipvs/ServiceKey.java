package dev.ferry.ipvs;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.Protocol;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.net.InetAddress;

/** What identifies a virtual service in the kernel: protocol, address and port (the rest can be updated). */
record ServiceKey(Protocol protocol, InetAddress address, int port) {

    static ServiceKey of(VirtualServer vs) {
        return new ServiceKey(vs.protocol(), vs.address(), vs.port());
    }

    @Override
    public String toString() {
        return protocol + " " + IpAddresses.hostPort(address, port);
    }
}
