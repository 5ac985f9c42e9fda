package dev.ferry.iptables;

import dev.ferry.core.Endpoint;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ServicePortName;
import dev.ferry.core.ServicePortState;
import dev.ferry.mode.inspect.LiveIptables;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;
import dev.ferry.mode.inspect.TraceRequest;
import dev.ferry.netfilter.IptablesDump;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** iptables mode on the live node: its chains in iptables-save, and packets traced through them. */
final class IptablesView implements ModeView {

    private final LiveIptables iptables;

    IptablesView(LiveNode node) {
        this.iptables = new LiveIptables(node);
    }

    @Override
    public Optional<Evidence> detect() throws IOException {
        // ipvs mode has a nat KUBE-SERVICES too: this counts only when no mode shows more
        return iptables.natHas(IpFamily.IPV4, ChainNames.SERVICES)
                ? Optional.of(Evidence.fallback("nat chain " + ChainNames.SERVICES + " exists")) : Optional.empty();
    }

    @Override
    public String lookedFor() {
        return "no KUBE-SERVICES chain in nat";
    }

    @Override
    public String summary(ServicePortState state, IpFamily family) {
        IptablesDump dump;
        try {
            dump = iptables.dump(family);
        } catch (IOException e) {
            return "unknown: " + e.getMessage();
        }
        ServicePortName name = state.name();
        IptablesDump.Table nat = dump.table("nat");
        List<String> chains = new ArrayList<>();
        for (String chain : List.of(ChainNames.service(name), ChainNames.serviceLocal(name))) {
            if (nat.has(chain)) {
                chains.add(chain);
            }
        }
        if (!chains.isEmpty()) {
            return "yes (" + String.join(", ", chains) + ")";
        }
        if (!LiveIptables.rulesFor(dump, name, ownChains(state, family)).isEmpty()) {
            return "yes (no endpoint chain: "
                    + (state.selection(family).allReachable().isEmpty() ? "no endpoints" : "rules only") + ")";
        }
        return "NO (no " + ChainNames.service(name) + " in nat)";
    }

    @Override
    public String details(ServicePortState state, IpFamily family) {
        return iptables.details(family, state.name(), ownChains(state, family));
    }

    @Override
    public String trace(TraceRequest request, long masqueradeMark, PrintStream warnings) throws IOException {
        return iptables.trace(request, masqueradeMark);
    }

    /** The port's own chains in the order a packet meets them: SVC/SVL, EXT, FW, then a SEP per endpoint. */
    private static Set<String> ownChains(ServicePortState state, IpFamily family) {
        ServicePortName name = state.name();
        Set<String> own = new LinkedHashSet<>(List.of(ChainNames.service(name), ChainNames.serviceLocal(name),
                ChainNames.external(name), ChainNames.firewall(name)));
        for (Endpoint ep : state.endpoints()) {
            if (ep.family() == family) {
                own.add(ChainNames.endpoint(name, ep));
            }
        }
        return own;
    }
}
