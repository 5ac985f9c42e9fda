package dev.ferry.iptables;

import dev.ferry.mode.ConfigField;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** The registration of iptables mode, upstream's default: KUBE-SERVICES, KUBE-SVC-*, KUBE-SEP-* applied with iptables-restore. */
public final class IptablesMode implements ProxyMode {

    public static final String NAME = "iptables";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String summary() {
        return "nat chains KUBE-SERVICES -> KUBE-SVC-* -> KUBE-SEP-* (DNAT), applied with iptables-restore";
    }

    @Override
    public ModeOptions newOptions() {
        return new IptablesModeOptions();
    }

    @Override
    public List<ConfigField> configFields() {
        return List.of(
                ConfigField.flag("iptables.localhostNodePorts", ConfigField.Kind.BOOL, IptablesModeOptions.LOCALHOST_NODEPORTS),
                ConfigField.ignored("iptables.snatNodeInternalIP", ConfigField.Kind.BOOL, null));
    }

    @Override
    public Optional<String> dryRunUnavailable() {
        return Optional.empty(); // it prints its iptables-restore input
    }

    @Override
    public boolean cleansConntrack() {
        return true; // DNAT in the kernel
    }

    @Override
    public Predicate<String> ownedChains() {
        return ChainNames::isIptablesModeChain;
    }


    @Override
    public ModeView view(LiveNode node) {
        return new IptablesView(node);
    }
}
