package dev.ferry.proxy.modes;

import dev.ferry.iptables.IptablesMode;
import dev.ferry.ipvs.IpvsMode;
import dev.ferry.mode.ProxyMode;
import dev.ferry.userspace.UserspaceMode;

import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The proxy modes this program has, in the order --help lists them; the first is the default, as
 * iptables is upstream's on Linux. Adding a mode is its module plus one entry in {@link #builtIn()}.
 * Immutable.
 */
public final class ProxyModes {

    private final List<ProxyMode> modes;

    public ProxyModes(List<ProxyMode> modes) {
        this.modes = List.copyOf(modes);
        if (this.modes.isEmpty()) {
            throw new IllegalArgumentException("no proxy mode");
        }
    }

    /** Every mode of this build. */
    public static ProxyModes builtIn() {
        return new ProxyModes(List.of(new IptablesMode(), new IpvsMode(), new UserspaceMode()));
    }

    public List<ProxyMode> all() {
        return modes;
    }

    /** The mode an empty --proxy-mode (or config mode "") means. */
    public ProxyMode defaultMode() {
        return modes.get(0);
    }

    /**
     * The mode of a --proxy-mode value; "" is the default.
     *
     * @throws IllegalArgumentException naming the value and the modes there are
     */
    public ProxyMode named(String name) {
        if (name == null || name.isEmpty()) {
            return defaultMode();
        }
        for (ProxyMode m : modes) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("\"" + name + "\" is not a proxy mode (one of " + names() + ")");
    }

    /** "iptables, ipvs, userspace". */
    public String names() {
        return modes.stream().map(ProxyMode::name).collect(Collectors.joining(", "));
    }

    /**
     * The chains every other mode owns, which {@code mode} removes when it starts (upstream's modes
     * clean each other's leftovers).
     */
    public Predicate<String> leftoversFor(ProxyMode mode) {
        Objects.requireNonNull(mode, "mode");
        Predicate<String> out = chain -> false;
        for (ProxyMode other : others(mode)) {
            out = out.or(other.ownedChains());
        }
        return out;
    }

    /** Every mode but {@code mode}, in registry order. */
    public List<ProxyMode> others(ProxyMode mode) {
        return modes.stream().filter(m -> !m.name().equals(mode.name())).toList();
    }
}
