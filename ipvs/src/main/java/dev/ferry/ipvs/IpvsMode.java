package dev.ferry.ipvs;

import dev.ferry.mode.ConfigField;
import dev.ferry.mode.ConfigField.Kind;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The registration of ipvs mode: IPVS virtual servers over generic netlink, the Service addresses
 * on kube-ipvs0, upstream's ipsets and a fixed set of iptables rules.
 */
public final class IpvsMode implements ProxyMode {

    public static final String NAME = "ipvs";

    private final LiveIpvs live;

    /** Reading this machine's IPVS table and ipsets for {@code inspect} and {@code trace}. */
    public IpvsMode() {
        this(LiveIpvs.kernel());
    }

    /** @param live where {@code inspect} and {@code trace} read the IPVS table and ipsets (tests give a fake) */
    public IpvsMode(LiveIpvs live) {
        this.live = Objects.requireNonNull(live, "live");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String summary() {
        return "IPVS virtual servers over netlink, Service addresses on kube-ipvs0, ipsets and fixed iptables rules";
    }

    @Override
    public ModeOptions newOptions() {
        return new IpvsModeOptions();
    }

    @Override
    public List<ConfigField> configFields() {
        return List.of(
                ConfigField.zeroIsDefault("ipvs.syncPeriod", IpvsModeOptions.SYNC_PERIOD),
                ConfigField.flag("ipvs.minSyncPeriod", Kind.DURATION, IpvsModeOptions.MIN_SYNC_PERIOD),
                ConfigField.flag("ipvs.scheduler", Kind.STRING, IpvsModeOptions.SCHEDULER),
                ConfigField.flag("ipvs.excludeCIDRs", Kind.STRING_LIST, IpvsModeOptions.EXCLUDE_CIDRS),
                ConfigField.flag("ipvs.strictARP", Kind.BOOL, IpvsModeOptions.STRICT_ARP),
                ConfigField.flag("ipvs.tcpTimeout", Kind.DURATION, IpvsModeOptions.TCP_TIMEOUT),
                ConfigField.flag("ipvs.tcpFinTimeout", Kind.DURATION, IpvsModeOptions.TCP_FIN_TIMEOUT),
                ConfigField.flag("ipvs.udpTimeout", Kind.DURATION, IpvsModeOptions.UDP_TIMEOUT));
    }

    @Override
    public Optional<String> dryRunUnavailable() {
        return Optional.of("IPVS is programmed over netlink");
    }

    @Override
    public boolean cleansConntrack() {
        return true; // IPVS with net/ipv4/vs/conntrack=1 leaves the same stale flows as DNAT
    }

    @Override
    public Predicate<String> ownedChains() {
        return chain -> false; // its chains share names with iptables mode's; its cleanup removes them
    }


    @Override
    public ModeView view(LiveNode node) {
        return new IpvsView(node, live);
    }
}
