package dev.ferry.core;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * IPv4 or IPv6, with the facts every mode needs about a family, so that no code spells them out
 * with a ternary: each family is programmed separately (iptables vs ip6tables, ip vs ip6 tables).
 */
public enum IpFamily {
    IPV4("IPv4", 32, 2, "inet", "iptables", "127.0.0.0/8"),
    IPV6("IPv6", 128, 10, "inet6", "ip6tables", "::1/128");

    private final String label;
    private final int af;
    private final String inetName;
    private final int bits;
    private final String iptables;
    private final Cidr loopback;

    IpFamily(String label, int bits, int af, String inetName, String iptables, String loopback) {
        this.label = label;
        this.af = af;
        this.inetName = inetName;
        this.bits = bits;
        this.iptables = iptables;
        this.loopback = Cidr.parse(loopback);
    }

    public static IpFamily of(InetAddress address) {
        return address instanceof Inet4Address ? IPV4 : IPV6;
    }

    public boolean contains(InetAddress address) {
        return of(address) == this;
    }

    /** "IPv4" or "IPv6", as upstream's v1.IPFamily values (metric labels, health report, logs). */
    public String label() {
        return label;
    }

    /** Address length in bits: 32 or 128, the prefix length of a single address. */
    public int bits() {
        return bits;
    }

    /** Address length in bytes: 4 or 16. */
    public int bytes() {
        return bits / 8;
    }

    /** The socket address family number, AF_INET (2) or AF_INET6 (10), as netlink requests name it. */
    public int af() {
        return af;
    }

    /** The kernel's name of the family, as ipset and ip(8) write it: "inet" or "inet6". */
    public String inetName() {
        return inetName;
    }

    /** "/32" or "/128": the suffix that makes an address a single-address CIDR. */
    public String hostSuffix() {
        return "/" + bits;
    }

    /** The loopback range: 127.0.0.0/8 or ::1/128. */
    public Cidr loopback() {
        return loopback;
    }

    /** The iptables program of this family: "iptables" or "ip6tables" (plus "-save", "-restore"). */
    public String iptables() {
        return iptables;
    }

    /** The other family. */
    public IpFamily other() {
        return this == IPV4 ? IPV6 : IPV4;
    }

    @Override
    public String toString() {
        return name();
    }
}
