package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.ipvs.netlink.IpvsTimeouts;
import dev.ferry.netfilter.NetworkSettings;

import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The IPVS mode's settings from the command line (upstream's KubeProxyIPVSConfiguration plus the node's network
 * settings its rules use).
 *
 * @param scheduler        --ipvs-scheduler; "" means rr
 * @param excludeCidrs     --ipvs-exclude-cidrs: a sync never deletes virtual servers there (--cleanup flushes
 *                         every virtual server, as upstream's does)
 * @param strictArp        --ipvs-strict-arp: arp_ignore=1, arp_announce=2
 * @param timeouts         --ipvs-tcp-timeout, --ipvs-tcpfin-timeout, --ipvs-udp-timeout; all zero: the kernel's stay
 * @param otherModesChains the other proxy modes' iptables chains (ModeContext.leftovers()): the first sync removes
 *                         those this mode does not write itself
 */
record IpvsConfig(NetworkSettings network, String scheduler, List<Cidr> excludeCidrs, boolean strictArp,
                  IpvsTimeouts timeouts, Predicate<String> otherModesChains) {

    IpvsConfig {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(scheduler, "scheduler");
        excludeCidrs = List.copyOf(excludeCidrs);
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(otherModesChains, "otherModesChains");
    }

    /** Settings that remove no other mode's chains. */
    IpvsConfig(NetworkSettings network, String scheduler, List<Cidr> excludeCidrs, boolean strictArp,
               IpvsTimeouts timeouts) {
        this(network, scheduler, excludeCidrs, strictArp, timeouts, chain -> false);
    }

    /** Upstream's defaults on top of {@code network}. */
    static IpvsConfig defaults(NetworkSettings network) {
        return new IpvsConfig(network, "", List.of(), false, IpvsTimeouts.ofSeconds(0, 0, 0));
    }

    /** The same settings, removing {@code chains} of the other modes at the first sync. */
    IpvsConfig withOtherModesChains(Predicate<String> chains) {
        return new IpvsConfig(network, scheduler, excludeCidrs, strictArp, timeouts, chains);
    }

    boolean setsTimeouts() {
        return !(timeouts.tcp().isZero() && timeouts.tcpFin().isZero() && timeouts.udp().isZero());
    }
}
