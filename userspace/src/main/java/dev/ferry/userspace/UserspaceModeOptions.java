package dev.ferry.userspace;

import dev.ferry.core.IpFamily;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.FlagNames;
import dev.ferry.mode.InvalidFlagException;
import dev.ferry.mode.ModeContext;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.netfilter.Iptables;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.userspace.forward.ForwarderConfig;
import dev.ferry.userspace.forward.Forwarders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * The flags of userspace mode, and how its backend is built: with iptables portal rules when this
 * process can program iptables, else binding the local Service addresses directly.
 */
final class UserspaceModeOptions implements ModeOptions {

    private static final Logger log = LoggerFactory.getLogger(UserspaceModeOptions.class);

    static final String BIND_ADDRESS = "--bind-address";
    static final String PORT_RANGE = "--proxy-port-range";
    static final String UDP_TIMEOUT = "--udp-timeout";

    @Option(names = BIND_ADDRESS, paramLabel = "IP", defaultValue = "0.0.0.0", converter = FlagConverters.IpConverter.class,
            description = "The node's primary IP, overriding its Node's (0.0.0.0 and :: leave the Node's, as upstream); "
                    + "userspace mode also binds its listeners to it (0.0.0.0: all). Default: ${DEFAULT-VALUE}.")
    InetAddress bindAddress;

    @Option(names = PORT_RANGE, paramLabel = "RANGE", defaultValue = "", converter = PortRangeConverter.class,
            description = "userspace mode: host ports its listeners may take (begin-end, begin+offset or one port, "
                    + "inclusive); empty or 0-0: ports are picked by the kernel.")
    PortRange portRange;

    @Option(names = UDP_TIMEOUT, paramLabel = "DURATION", defaultValue = "250ms", converter = FlagConverters.DurationConverter.class,
            description = "userspace mode: how long an idle UDP session is kept. Default: ${DEFAULT-VALUE}.")
    Duration udpTimeout;

    static final class PortRangeConverter implements ITypeConverter<PortRange> {
        @Override
        public PortRange convert(String value) {
            return FlagConverters.parsed(value, PortRange::parse);
        }
    }

    @Override
    public void validate(FlagNames names) {
        if (udpTimeout.isZero() || udpTimeout.isNegative()) {
            throw new InvalidFlagException(names.of(UDP_TIMEOUT) + ": must be greater than 0");
        }
    }

    /** "epoll, bulk TCP by splice" or "nio": what an operator needs to know about the data path. */
    private static String describe(Forwarders forwarders) {
        return forwarders.transport() + (forwarders.splices() ? ", bulk TCP by splice" : "");
    }

    /** The one backend of userspace mode (IPv4), owning its event loops. */
    @Override
    public ModeRuntime start(ModeContext context) {
        ForwarderConfig defaults = ForwarderConfig.defaults();
        Duration tcpIdleTimeout = context.tcpEstablishedIdle();
        // 0 means "no limit": ten years is as good as none, and keeps the forwarder's config simple
        Duration tcpIdle = tcpIdleTimeout.isZero() ? Duration.ofDays(3650) : tcpIdleTimeout;
        Forwarders forwarders = new Forwarders(new ForwarderConfig(defaults.connectTimeouts(), tcpIdle,
                udpTimeout, defaults.eventLoopThreads()));
        String why = new Iptables(IpFamily.IPV4, context.commands()).unusable();
        UserspaceBackend backend;
        String label;
        if (why == null) {
            backend = UserspaceBackend.withPortals(forwarders,
                    new PortalRules(IpFamily.IPV4, context.commands(), context.leftovers()), bindAddress, portRange);
            label = UserspaceMode.NAME;
            log.info("userspace mode: {} forwarder, listeners on {} (ports {}), iptables portal rules redirect to them",
                    describe(forwarders), bindAddress.getHostAddress(), portRange);
        } else {
            backend = UserspaceBackend.direct(forwarders, bindAddress, LocalAddresses.ofThisMachine());
            label = UserspaceMode.NAME + " (direct)";
            log.warn("userspace mode without iptables portal rules ({}): only Service addresses local to this machine "
                    + "are served, by listeners bound to them directly, and NodePorts on {}; {} forwarder", why,
                    bindAddress.getHostAddress(), describe(forwarders));
        }
        return new ModeRuntime(List.of(new FamilyBackend(label, IpFamily.IPV4, backend)),
                new UserspaceMetrics(backend::stats));
    }

    /** The portal rules go with every KUBE-* chain in iptables mode's cleanup; the listeners live only in a running proxy. */
    @Override
    public List<FamilyBackend> cleanup(ModeContext context) {
        return List.of();
    }
}
