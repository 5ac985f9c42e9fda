package dev.ferry.ipvs;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the IPVS plan needs besides the snapshot.
 *
 * @param scheduler         --ipvs-scheduler; "" means upstream's default, rr
 * @param nodePortAddresses the node addresses NodePorts are served on (upstream: every local address except those on
 *                          kube-ipvs0, or those matching --nodeport-addresses, loopback excluded); empty = no NodePort
 *                          virtual servers, as upstream skips them when it has no node IPs
 * @param hostAddresses     addresses already on another interface of the node: an external or LoadBalancer IP among
 *                          them is served but not bound to kube-ipvs0 (upstream's "must not add the address to the
 *                          dummy device if it exists on another interface")
 */
record IpvsSettings(String scheduler, List<InetAddress> nodePortAddresses, Set<InetAddress> hostAddresses) {

    /** Upstream's scheduler when --ipvs-scheduler is empty. */
    static final String DEFAULT_SCHEDULER = "rr";

    IpvsSettings {
        Objects.requireNonNull(scheduler, "scheduler");
        scheduler = scheduler.isEmpty() ? DEFAULT_SCHEDULER : scheduler;
        // IP_VS_SCHEDNAME_MAXLEN is 16 bytes with the NUL: fail here, not on every service
        if (scheduler.getBytes(StandardCharsets.UTF_8).length > 15 || scheduler.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("ipvs scheduler \"" + scheduler + "\": at most 15 bytes, no NUL");
        }
        nodePortAddresses = List.copyOf(nodePortAddresses);
        hostAddresses = Set.copyOf(hostAddresses);
    }

    /** The default scheduler, no NodePort addresses, nothing on other interfaces. */
    static IpvsSettings defaults() {
        return new IpvsSettings("", List.of(), Set.of());
    }
}
