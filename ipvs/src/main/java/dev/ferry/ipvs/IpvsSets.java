package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The entries every upstream ipset of one family must hold after a sync, plus the LoadBalancer
 * ports the node itself may not reach (source ranges that leave the node out). Immutable.
 */
final class IpvsSets {

    /**
     * A LoadBalancer IP:port whose source ranges do not include the node's IP: upstream drops
     * the node's own connections to it in filter KUBE-IPVS-OUT-FILTER (kubernetes#119656).
     */
    record NoNodeAccess(String ip, Protocol protocol, int port) {
        NoNodeAccess {
            Objects.requireNonNull(ip, "ip");
            Objects.requireNonNull(protocol, "protocol");
        }
    }

    private final IpFamily family;
    private final Map<KubeIpSet, SortedSet<String>> entries;
    private final List<NoNodeAccess> noNodeAccess;

    IpvsSets(IpFamily family, Map<KubeIpSet, SortedSet<String>> entries, List<NoNodeAccess> noNodeAccess) {
        this.family = Objects.requireNonNull(family, "family");
        EnumMap<KubeIpSet, SortedSet<String>> copy = new EnumMap<>(KubeIpSet.class);
        for (KubeIpSet set : KubeIpSet.values()) {
            SortedSet<String> e = entries.get(set);
            copy.put(set, Collections.unmodifiableSortedSet(e == null ? new TreeSet<>() : new TreeSet<>(e)));
        }
        this.entries = Collections.unmodifiableMap(copy);
        this.noNodeAccess = List.copyOf(noNodeAccess);
    }

    IpFamily family() {
        return family;
    }

    /** The set's entries as ipset prints them ("10.96.0.10,tcp:80"), sorted. */
    SortedSet<String> entries(KubeIpSet set) {
        return entries.get(set);
    }

    boolean isEmpty(KubeIpSet set) {
        return entries.get(set).isEmpty();
    }

    String name(KubeIpSet set) {
        return set.name(family);
    }

    List<NoNodeAccess> noNodeAccess() {
        return noNodeAccess;
    }

    /**
     * `ipset restore` input that makes every set of ours hold exactly its entries and touches no
     * other set. Each live set is created when missing (-exist), then a scratch set of the same
     * type is filled and swapped in, so traffic never sees a half-filled or empty set (upstream
     * adds and deletes entry by entry for the same reason), and the scratch set is destroyed.
     * Swap keeps iptables references on the live name, since rules refer to the set's slot.
     */
    String restoreText() {
        StringBuilder out = new StringBuilder(1024);
        for (KubeIpSet set : KubeIpSet.values()) {
            String live = set.name(family);
            String scratch = set.scratchName(family);
            String create = " " + set.type().text() + " " + set.createOptions(family) + " -exist\n";
            out.append("create ").append(live).append(create);
            out.append("create ").append(scratch).append(create);
            out.append("flush ").append(scratch).append('\n');
            for (String entry : entries.get(set)) {
                out.append("add ").append(scratch).append(' ').append(entry).append('\n');
            }
            out.append("swap ").append(scratch).append(' ').append(live).append('\n');
            out.append("destroy ").append(scratch).append('\n');
        }
        return out.toString();
    }
}
