package dev.ferry.proxy;

import dev.ferry.core.IpFamily;
import dev.ferry.iptables.CommandRunner;
import dev.ferry.iptables.LocalAddresses;
import dev.ferry.iptables.PortalRules;
import dev.ferry.proxy.forward.ForwarderConfig;
import dev.ferry.proxy.forward.Forwarders;
import dev.ferry.proxy.userspace.PortRange;
import dev.ferry.proxy.userspace.UserspaceBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * The flags of userspace mode, and how its backend is built: with iptables portal rules when
 * this process can program iptables, else binding the local Service addresses directly.
 *
 * @param bindAddress    --bind-address: where listeners bind (0.0.0.0: every address)
 * @param portRange      --proxy-port-range: the ports portal listeners take
 * @param udpTimeout     --udp-timeout: how long an idle UDP session lives
 * @param tcpIdleTimeout --conntrack-tcp-timeout-established: how long an idle TCP connection
 *                       lives (zero: no limit)
 */
record UserspaceSettings(InetAddress bindAddress, PortRange portRange, Duration udpTimeout, Duration tcpIdleTimeout) {

    private static final Logger log = LoggerFactory.getLogger(UserspaceSettings.class);

    UserspaceSettings {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(portRange, "portRange");
        if (udpTimeout.isNegative() || udpTimeout.isZero()) {
            throw new IllegalArgumentException("UDP timeout must be positive: " + udpTimeout);
        }
        if (tcpIdleTimeout.isNegative()) {
            throw new IllegalArgumentException("TCP idle timeout must not be negative: " + tcpIdleTimeout);
        }
    }

    /** "epoll, bulk TCP by splice" or "nio": what an operator needs to know about the data path. */
    private static String describe(Forwarders forwarders) {
        return forwarders.transport() + (forwarders.splices() ? ", bulk TCP by splice" : "");
    }

    /** The one backend of userspace mode (IPv4), owning its event loops. */
    Backends.Labeled backend(CommandRunner runner) {
        ForwarderConfig defaults = ForwarderConfig.defaults();
        // 0 means "no limit": ten years is as good as none, and keeps the forwarder's config simple
        Duration tcpIdle = tcpIdleTimeout.isZero() ? Duration.ofDays(3650) : tcpIdleTimeout;
        Forwarders forwarders = new Forwarders(new ForwarderConfig(defaults.connectTimeouts(), tcpIdle,
                udpTimeout, defaults.eventLoopThreads()));
        String why = Backends.unusable(runner, "iptables-save");
        UserspaceBackend backend;
        String label;
        if (why == null) {
            backend = UserspaceBackend.withPortals(forwarders, new PortalRules(IpFamily.IPV4, runner), bindAddress, portRange);
            label = "userspace";
            log.info("userspace mode: {} forwarder, listeners on {} (ports {}), iptables portal rules redirect to them",
                    describe(forwarders), bindAddress.getHostAddress(), portRange);
        } else {
            backend = UserspaceBackend.direct(forwarders, bindAddress, LocalAddresses.ofThisMachine());
            label = "userspace (direct)";
            log.warn("userspace mode without iptables portal rules ({}): only Service addresses local to this machine "
                    + "are served, by listeners bound to them directly, and NodePorts on {}; {} forwarder", why,
                    bindAddress.getHostAddress(), describe(forwarders));
        }
        return new Backends.Labeled(label, IpFamily.IPV4, backend, () -> 0, () -> {
            backend.close();
            forwarders.close();
        });
    }

}
