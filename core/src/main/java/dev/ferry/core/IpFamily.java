package dev.ferry.core;

import java.net.Inet4Address;
import java.net.InetAddress;

/** IPv4 or IPv6; each family is programmed separately (iptables vs ip6tables). */
public enum IpFamily {
    IPV4, IPV6;

    public static IpFamily of(InetAddress address) {
        return address instanceof Inet4Address ? IPV4 : IPV6;
    }

    public boolean contains(InetAddress address) {
        return of(address) == this;
    }
}
