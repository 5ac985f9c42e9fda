package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.ipvs.netlink.IpvsTimeouts;
import dev.ferry.netfilter.NetworkSettings;

import java.util.List;
import java.util.Objects;

/**
 * The IPVS mode's settings from the command line (upstream's KubeProxyIPVSConfiguration plus the node's network
 * settings its rules use).
 *
 * @param scheduler    --ipvs-scheduler; "" means rr
 * @param excludeCidrs --ipvs-exclude-cidrs: virtual servers there are never deleted by a sync or cleanup
 * @param strictArp    --ipvs-strict-arp: arp_ignore=1, arp_announce=2
 * @param timeouts     --ipvs-tcp-timeout, --ipvs-tcpfin-timeout, --ipvs-udp-timeout; all zero: the kernel's stay
 */
record IpvsConfig(NetworkSettings network, String scheduler, List<Cidr> excludeCidrs, boolean strictArp,
                         IpvsTimeouts timeouts) {

    IpvsConfig {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(scheduler, "scheduler");
        excludeCidrs = List.copyOf(excludeCidrs);
        Objects.requireNonNull(timeouts, "timeouts");
    }

    /** Upstream's defaults on top of {@code network}. */
    static IpvsConfig defaults(NetworkSettings network) {
        return new IpvsConfig(network, "", List.of(), false, IpvsTimeouts.ofSeconds(0, 0, 0));
    }

    boolean setsTimeouts() {
        return !(timeouts.tcp().isZero() && timeouts.tcpFin().isZero() && timeouts.udp().isZero());
    }
}
