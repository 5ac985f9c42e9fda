package dev.ferry.nativeio.ctnetlink;

import java.net.InetAddress;
import java.util.Objects;

/**
 * One direction of a conntrack flow: addresses, IP protocol number and ports (0 for a protocol
 * without ports, e.g. ICMP).
 */
public record ConntrackTuple(InetAddress source, InetAddress destination, int protocol, int sourcePort,
                             int destinationPort) {

    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_UDP = 17;
    public static final int IPPROTO_SCTP = 132;

    public ConntrackTuple {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        if (source.getAddress().length != destination.getAddress().length) {
            throw new IllegalArgumentException("source " + source + " and destination " + destination + " differ in family");
        }
        if (protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("protocol " + protocol + " out of range 0..255");
        }
        if (sourcePort < 0 || sourcePort > 65535 || destinationPort < 0 || destinationPort > 65535) {
            throw new IllegalArgumentException("ports " + sourcePort + ", " + destinationPort + " out of range 0..65535");
        }
    }

    /** Whether the protocol has ports conntrack matches on (TCP, UDP, DCCP, SCTP, UDP-Lite). */
    public boolean hasPorts() {
        return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == 33 || protocol == IPPROTO_SCTP
                || protocol == 136;
    }

    /** conntrack(8)'s spelling: "src=A dst=B sport=P dport=Q". */
    @Override
    public String toString() {
        String s = "src=" + source.getHostAddress() + " dst=" + destination.getHostAddress();
        return hasPorts() ? s + " sport=" + sourcePort + " dport=" + destinationPort : s;
    }
}
