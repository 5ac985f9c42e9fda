package dev.ferry.userspace;

import dev.ferry.mode.ConfigField;
import dev.ferry.mode.ConfigField.Kind;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** The registration of userspace mode: a Netty forwarder in this process, reached through iptables portal rules. */
public final class UserspaceMode implements ProxyMode {

    public static final String NAME = "userspace";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String summary() {
        return "a forwarder in this process (strict round robin), iptables portal rules redirect to it";
    }

    @Override
    public ModeOptions newOptions() {
        return new UserspaceModeOptions();
    }

    @Override
    public List<ConfigField> configFields() {
        // upstream's userspace-mode fields (portRange and udpIdleTimeout) and the address its listeners bind
        return List.of(
                ConfigField.flag("bindAddress", Kind.STRING, UserspaceModeOptions.BIND_ADDRESS),
                ConfigField.flag("portRange", Kind.STRING, UserspaceModeOptions.PORT_RANGE),
                ConfigField.zeroIsDefault("udpIdleTimeout", UserspaceModeOptions.UDP_TIMEOUT));
    }

    @Override
    public Optional<String> dryRunUnavailable() {
        return Optional.empty(); // it prints its portal rules
    }

    @Override
    public boolean cleansConntrack() {
        return false; // it opens its own connections to endpoints: no NAT flows to clean
    }

    @Override
    public Predicate<String> ownedChains() {
        return PortalChains::isPortalChain;
    }


    @Override
    public ModeView view(LiveNode node) {
        return new UserspaceView(node);
    }
}
