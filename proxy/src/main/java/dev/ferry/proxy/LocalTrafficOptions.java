package dev.ferry.proxy;

import dev.ferry.core.Cidr;
import dev.ferry.core.ChangeTracker;
import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTraffic;
import dev.ferry.core.LocalTrafficDetection;
import dev.ferry.core.LocalTrafficDetection.Mode;
import dev.ferry.mode.InvalidFlagException;
import org.slf4j.Logger;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Upstream's local-traffic detection flags (a picocli mixin of {@link ProxyOptions}):
 * --detect-local-mode and its companions --pod-bridge-interface and --pod-interface-name-prefix
 * (--cluster-cidr is a shared flag), checked as upstream's validateDetectLocalConfiguration checks
 * them, and turned into the node's {@link LocalTrafficDetection}.
 *
 * <p>Stricter than upstream in one way: an interface name the kernel cannot hold (longer than 15
 * characters, or 14 for a prefix, which iptables writes with a trailing "+"; white space, "/", ":",
 * quotes) is refused at start, where upstream accepts it and then fails every iptables-restore.
 */
final class LocalTrafficOptions {

    static final String MODE = "--detect-local-mode";
    static final String BRIDGE = "--pod-bridge-interface";
    static final String PREFIX = "--pod-interface-name-prefix";

    @Option(names = MODE, paramLabel = "MODE", defaultValue = "ClusterCIDR", converter = ModeConverter.class,
            description = "How traffic from this node's pods is told from other traffic (traffic to a ClusterIP "
                    + "that is not is masqueraded): ClusterCIDR (source in --cluster-cidr), NodeCIDR (source in the "
                    + "Node's spec.podCIDRs; waits for them at start), BridgeInterface (arriving on "
                    + BRIDGE + "), InterfaceNamePrefix (arriving on an interface whose name starts with " + PREFIX
                    + "). Default: ${DEFAULT-VALUE}.")
    Mode mode = Mode.CLUSTER_CIDR;

    @Option(names = BRIDGE, paramLabel = "NAME", defaultValue = "",
            description = "With " + MODE + "=BridgeInterface: the bridge pod traffic arrives on (e.g. cbr0).")
    String bridgeInterface = "";

    @Option(names = PREFIX, paramLabel = "PREFIX", defaultValue = "",
            description = "With " + MODE + "=InterfaceNamePrefix: the start of the names of the interfaces pod "
                    + "traffic arrives on (e.g. veth, cali).")
    String interfaceNamePrefix = "";

    /**
     * Checks the companion flag of the chosen mode, as upstream: it must be set, and (ours) be a
     * name the kernel can hold. The other mode's companion is not looked at, as upstream.
     *
     * @param name how a message names a flag (or the config file field it came from)
     */
    void validate(Function<String, String> name) {
        String flag = mode == Mode.BRIDGE_INTERFACE ? BRIDGE : PREFIX;
        String value = mode == Mode.BRIDGE_INTERFACE ? bridgeInterface : interfaceNamePrefix;
        try {
            detection(List.of());
        } catch (IllegalArgumentException e) {
            throw new InvalidFlagException(name.apply(flag) + ": " + (value.isEmpty()
                    ? "must be set: " + name.apply(MODE) + " is " + mode : e.getMessage()));
        }
    }

    /** The node's detection; {@code clusterCidrs} (--cluster-cidr) matter in ClusterCIDR mode only. */
    LocalTrafficDetection detection(List<Cidr> clusterCidrs) {
        return switch (mode) {
            case CLUSTER_CIDR -> LocalTrafficDetection.clusterCidr(clusterCidrs);
            case NODE_CIDR -> LocalTrafficDetection.nodeCidr();
            case BRIDGE_INTERFACE -> LocalTrafficDetection.bridgeInterface(bridgeInterface);
            case INTERFACE_NAME_PREFIX -> LocalTrafficDetection.interfaceNamePrefix(interfaceNamePrefix);
        };
    }

    /**
     * One line for the detection in use, and, as upstream, one for a family of the cluster that
     * ClusterCIDR mode has no CIDR of (nothing is masqueraded by source then); one warning for a
     * companion flag that the chosen mode does not use.
     */
    void logSettings(Logger log, List<Cidr> clusterCidrs, Set<IpFamily> families) {
        LocalTrafficDetection detection = detection(clusterCidrs);
        log.info("local traffic detection: {}", detection);
        if (mode == Mode.CLUSTER_CIDR) {
            for (IpFamily family : families) {
                if (detection.forFamily(family, null) == LocalTraffic.NONE) {
                    log.info("{}=ClusterCIDR but no --cluster-cidr of {}: traffic to its ClusterIPs from outside the pods "
                            + "is not masqueraded", MODE, family.label());
                }
            }
        }
        if (!bridgeInterface.isEmpty() && mode != Mode.BRIDGE_INTERFACE) {
            log.warn("{} {} is ignored: it is used with {}=BridgeInterface, not {}", BRIDGE, bridgeInterface, MODE, mode);
        }
        if (!interfaceNamePrefix.isEmpty() && mode != Mode.INTERFACE_NAME_PREFIX) {
            log.warn("{} {} is ignored: it is used with {}=InterfaceNamePrefix, not {}", PREFIX, interfaceNamePrefix,
                    MODE, mode);
        }
    }

    /**
     * In NodeCIDR mode, the watch of this node's podCIDRs that the proxy waits on before its first
     * sync and that stops it when they change; in other modes one that never waits.
     *
     * @param stopProxy stops the proxy (it then exits with status 1, so that it is restarted)
     */
    NodePodCidrs watchPodCidrs(ChangeTracker tracker, Runnable stopProxy) {
        if (mode != Mode.NODE_CIDR) {
            return NodePodCidrs.notNeeded();
        }
        NodePodCidrs watch = new NodePodCidrs(tracker.hostname(), stopProxy);
        tracker.onNodeUpdate(watch::nodeUpdated);
        return watch;
    }

    /** Upstream's LocalMode values, case-sensitive; "" is upstream's default, ClusterCIDR. */
    static final class ModeConverter implements ITypeConverter<Mode> {
        @Override
        public Mode convert(String value) {
            return Mode.named(value).orElseThrow(() -> new TypeConversionException("\"" + value
                    + "\" is not a local traffic detection mode (" + names() + ")" + suggestion(value)));
        }

        private static String names() {
            return Arrays.stream(Mode.values()).map(Mode::upstreamName).collect(Collectors.joining(", "));
        }

        private static String suggestion(String value) {
            return Arrays.stream(Mode.values()).filter(m -> m.upstreamName().equalsIgnoreCase(value)).findFirst()
                    .map(m -> "; did you mean " + m.upstreamName() + "? (the names are case-sensitive)").orElse("");
        }
    }
}
