package dev.ferry.userspace;

import dev.ferry.core.IpFamily;
import dev.ferry.core.ServicePortState;
import dev.ferry.mode.inspect.LiveIptables;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;
import dev.ferry.mode.inspect.TraceRequest;
import dev.ferry.netfilter.IptablesDump;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * userspace mode on the live node: its portal rules in iptables-save (a service port's are the
 * rules whose comment names it), and packets traced through them up to the REDIRECT to the proxy.
 */
final class UserspaceView implements ModeView {

    private final LiveIptables iptables;

    UserspaceView(LiveNode node) {
        this.iptables = new LiveIptables(node);
    }

    @Override
    public Optional<Evidence> detect() throws IOException {
        if (iptables.natHas(IpFamily.IPV4, PortalChains.PORTALS_CONTAINER)
                || iptables.natHas(IpFamily.IPV4, PortalChains.PORTALS_HOST)) {
            return Optional.of(Evidence.definite("nat chain " + PortalChains.PORTALS_CONTAINER + " exists"));
        }
        return Optional.empty();
    }

    @Override
    public String lookedFor() {
        return "no KUBE-PORTALS-* chain in nat";
    }

    @Override
    public String summary(ServicePortState state, IpFamily family) {
        IptablesDump dump;
        try {
            dump = iptables.dump(family);
        } catch (IOException e) {
            return "unknown: " + e.getMessage();
        }
        int count = 0;
        for (List<String> rules : LiveIptables.rulesFor(dump, state.name(), Set.of()).values()) {
            count += rules.size();
        }
        return count > 0 ? "yes (" + count + " portal rules)" : "NO (no KUBE-PORTALS-* rule)";
    }

    @Override
    public String details(ServicePortState state, IpFamily family) {
        return iptables.details(family, state.name(), Set.of());
    }

    @Override
    public String trace(TraceRequest request, long masqueradeMark, PrintStream warnings) throws IOException {
        return iptables.trace(request, masqueradeMark);
    }
}
