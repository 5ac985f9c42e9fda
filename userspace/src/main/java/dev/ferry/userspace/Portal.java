package dev.ferry.userspace;

import dev.ferry.core.ServicePort;

import java.util.Objects;

/**
 * A service port and the local port its userspace listener is bound to: the portal rules send
 * the service port's traffic (ClusterIP, external IPs, load-balancer IPs, NodePort) there.
 *
 * @param proxyPort the REDIRECT / DNAT target port, 1..65535
 */
record Portal(ServicePort port, int proxyPort) {

    Portal {
        Objects.requireNonNull(port, "port");
        if (proxyPort < 1 || proxyPort > 65535) {
            throw new IllegalArgumentException(port.name() + ": proxy port " + proxyPort + " out of range 1..65535");
        }
    }
}
