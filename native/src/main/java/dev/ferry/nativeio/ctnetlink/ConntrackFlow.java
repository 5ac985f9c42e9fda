package dev.ferry.nativeio.ctnetlink;

import dev.ferry.nativeio.AddressFamily;

import java.util.Objects;

/**
 * One conntrack entry as the kernel dumps it.
 *
 * @param id      the kernel's id of the entry (CTA_ID); -1 when the kernel did not send one.
 *                A delete that names it removes this entry only, never a newer one with the
 *                same tuple.
 * @param zone    the conntrack zone (CTA_ZONE), 0 by default
 * @param status  IPS_* bits (CTA_STATUS), e.g. {@link #IPS_SEEN_REPLY}
 * @param timeout seconds left (CTA_TIMEOUT)
 */
public record ConntrackFlow(AddressFamily family, ConntrackTuple original, ConntrackTuple reply,
                            long id, int zone, long status, long timeout, long mark) {

    public static final long IPS_SEEN_REPLY = 1 << 1;
    public static final long IPS_SRC_NAT = 1 << 4;
    public static final long IPS_DST_NAT = 1 << 5;

    public ConntrackFlow {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(reply, "reply");
    }

    public int protocol() {
        return original.protocol();
    }

    /** conntrack -L's line, roughly: "udp 17 src=.. dst=.. sport=.. dport=.. [UNREPLIED] src=..". */
    @Override
    public String toString() {
        String proto = switch (protocol()) {
            case ConntrackTuple.IPPROTO_TCP -> "tcp";
            case ConntrackTuple.IPPROTO_UDP -> "udp";
            case ConntrackTuple.IPPROTO_SCTP -> "sctp";
            default -> "proto";
        };
        return proto + " " + protocol() + " " + original + ((status & IPS_SEEN_REPLY) == 0 ? " [UNREPLIED] " : " ")
                + reply + (zone != 0 ? " zone=" + zone : "") + (id >= 0 ? " id=" + id : "");
    }
}
