package dev.ferry.netfilter;

import dev.ferry.core.LocalTraffic;

import java.util.List;

/**
 * A {@link LocalTraffic} detector as iptables match arguments, as upstream's detectors write them
 * (pkg/proxy/util/localdetector.go): {@code -s CIDR}, {@code -i NAME}, {@code -i PREFIX+}, each
 * preceded by {@code !} for "not local"; nothing without a detector. Shared by the iptables and
 * IPVS modes.
 */
public final class LocalTrafficMatch {

    private LocalTrafficMatch() {
    }

    /** The arguments that match traffic from local pods. */
    public static List<String> ifLocal(LocalTraffic local) {
        return local.detects() ? List.of(option(local), value(local)) : List.of();
    }

    /** The arguments that match traffic not from local pods. */
    public static List<String> ifNotLocal(LocalTraffic local) {
        return local.detects() ? List.of("!", option(local), value(local)) : List.of();
    }

    /** Appends {@link #ifLocal} to the rule being written (no list: once per service port and sync). */
    public static LineBuffer addIfLocal(LineBuffer rule, LocalTraffic local) {
        return local.detects() ? rule.add(option(local), value(local)) : rule;
    }

    /** Appends {@link #ifNotLocal} to the rule being written. */
    public static LineBuffer addIfNotLocal(LineBuffer rule, LocalTraffic local) {
        return local.detects() ? rule.add("!").add(option(local), value(local)) : rule;
    }

    private static String option(LocalTraffic local) {
        return local instanceof LocalTraffic.SourceCidr ? "-s" : "-i";
    }

    private static String value(LocalTraffic local) {
        if (local instanceof LocalTraffic.SourceCidr c) {
            return c.cidr().toString();
        }
        if (local instanceof LocalTraffic.InInterface i) {
            return i.name();
        }
        if (local instanceof LocalTraffic.InInterfacePrefix p) {
            return p.prefix() + "+"; // iptables' interface wildcard
        }
        throw new IllegalArgumentException("no match for " + local);
    }
}
