package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.ipvs.netlink.IpvsTimeouts;
import dev.ferry.iptables.IptablesConfig;

import java.util.List;
import java.util.Objects;

/**
 * The IPVS mode's settings from the command line (upstream's KubeProxyIPVSConfiguration plus the shared iptables
 * settings its rules use).
 *
 * @param scheduler    --ipvs-scheduler; "" means rr
 * @param excludeCidrs --ipvs-exclude-cidrs: virtual servers there are never deleted by a sync or cleanup
 * @param strictArp    --ipvs-strict-arp: arp_ignore=1, arp_announce=2
 * @param timeouts     --ipvs-tcp-timeout, --ipvs-tcpfin-timeout, --ipvs-udp-timeout; all zero: the kernel's stay
 */
public record IpvsConfig(IptablesConfig iptables, String scheduler, List<Cidr> excludeCidrs, boolean strictArp,
                         IpvsTimeouts timeouts) {

    public IpvsConfig {
        Objects.requireNonNull(iptables, "iptables");
        Objects.requireNonNull(scheduler, "scheduler");
        excludeCidrs = List.copyOf(excludeCidrs);
        Objects.requireNonNull(timeouts, "timeouts");
    }

    /** Upstream's defaults on top of {@code iptables}. */
    public static IpvsConfig defaults(IptablesConfig iptables) {
        return new IpvsConfig(iptables, "", List.of(), false, IpvsTimeouts.ofSeconds(0, 0, 0));
    }

    boolean setsTimeouts() {
        return !(timeouts.tcp().isZero() && timeouts.tcpFin().isZero() && timeouts.udp().isZero());
    }
}
