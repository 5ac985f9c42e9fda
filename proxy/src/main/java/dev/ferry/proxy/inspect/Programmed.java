package dev.ferry.proxy.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortState;
import dev.ferry.mode.ProxyMode;
import dev.ferry.mode.inspect.ModeView;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the live node has programmed for a service port, in the words of the mode's view: a
 * summary cell per family, and the details. One instance serves one report (the view reads the
 * node once and keeps what it read).
 */
final class Programmed {

    private final ProxyMode mode;
    private final ModeView view;

    Programmed(ProxyMode mode, ModeView view) {
        this.mode = mode;
        this.view = view;
    }

    /** The families the port is served in: those of its cluster IPs. */
    static List<IpFamily> families(ServicePort port) {
        Set<IpFamily> out = new LinkedHashSet<>();
        port.clusterIPs().forEach(ip -> out.add(IpFamily.of(ip)));
        return new ArrayList<>(out);
    }

    /** One short cell: "yes (KUBE-SVC-…)", "NO: …", "unknown: …", prefixed by the family when the port has two. */
    String summary(ServicePortState state) {
        List<IpFamily> families = families(state.port());
        List<String> parts = new ArrayList<>();
        for (IpFamily family : families) {
            parts.add((families.size() > 1 ? family.label() + " " : "") + view.summary(state, family));
        }
        return String.join("; ", parts);
    }

    /** The rules or virtual servers of the port, indented lines, per family. */
    String details(ServicePortState state) {
        StringBuilder sb = new StringBuilder();
        for (IpFamily family : families(state.port())) {
            sb.append("  programmed (").append(family.label()).append(", ").append(mode.name()).append("):\n");
            sb.append(view.details(state, family));
        }
        return sb.toString();
    }
}
