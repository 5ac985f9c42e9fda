package dev.ferry.ipvs.netlink;

import java.time.Duration;
import java.util.Objects;

/**
 * IPVS connection timeouts (what `ipvsadm --set tcp tcpfin udp` sets), whole seconds. When set, a zero
 * duration leaves that timeout as it is: the kernel only applies the non-zero ones.
 */
public record IpvsTimeouts(Duration tcp, Duration tcpFin, Duration udp) {

    public IpvsTimeouts {
        check("tcp", tcp);
        check("tcpFin", tcpFin);
        check("udp", udp);
    }

    private static void check(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.getNano() != 0 || d.getSeconds() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("IPVS " + name + " timeout " + d
                    + " must be whole seconds in 0.." + Integer.MAX_VALUE + " (0 = leave unchanged)");
        }
    }

    public static IpvsTimeouts ofSeconds(long tcp, long tcpFin, long udp) {
        return new IpvsTimeouts(Duration.ofSeconds(tcp), Duration.ofSeconds(tcpFin), Duration.ofSeconds(udp));
    }
}
