package dev.ferry.core;

import java.util.Objects;

/**
 * How this node tells, in one IP family, traffic that comes from its pods ("local") from other
 * traffic: upstream's LocalTrafficDetector (pkg/proxy/util/localdetector.go), as a value that
 * every mode renders in its own kernel API. {@link #NONE} detects nothing: upstream then writes no
 * rule that depends on it (no masquerade of traffic from outside the pods to a ClusterIP, no
 * short-circuit of pod traffic to an external address).
 *
 * <p>Made by {@link LocalTrafficDetection#forFamily}; each kind checks its argument, so that a
 * value here always renders to a rule the kernel accepts.
 */
public sealed interface LocalTraffic {

    /** No detection: nothing is known to be local. */
    LocalTraffic NONE = new None();

    /** Linux's IFNAMSIZ less the terminating NUL: the longest interface name. */
    int MAX_INTERFACE_NAME = 15;

    /** Whether this detects anything (upstream's IsImplemented). */
    default boolean detects() {
        return !(this instanceof None);
    }

    /** Nothing is detected. */
    record None() implements LocalTraffic {
        @Override
        public String toString() {
            return "none";
        }
    }

    /** Traffic from {@code cidr} is local (ClusterCIDR and NodeCIDR modes). */
    record SourceCidr(Cidr cidr) implements LocalTraffic {
        public SourceCidr {
            Objects.requireNonNull(cidr, "cidr");
        }

        @Override
        public String toString() {
            return "source in " + cidr;
        }
    }

    /** Traffic that arrives on interface {@code name} is local (BridgeInterface mode). */
    record InInterface(String name) implements LocalTraffic {
        public InInterface {
            checkName(name, MAX_INTERFACE_NAME, "bridge interface");
        }

        @Override
        public String toString() {
            return "arriving on " + name;
        }
    }

    /**
     * Traffic that arrives on an interface whose name starts with {@code prefix} is local
     * (InterfaceNamePrefix mode). iptables writes it as {@code prefix+}, which must fit an
     * interface name, so the prefix is one character shorter than the longest name.
     */
    record InInterfacePrefix(String prefix) implements LocalTraffic {
        public InInterfacePrefix {
            checkName(prefix, MAX_INTERFACE_NAME - 1, "interface name prefix");
        }

        @Override
        public String toString() {
            return "arriving on " + prefix + "*";
        }
    }

    /**
     * What Linux accepts as an interface name (dev_valid_name: no "/", ":" or white space) and
     * what a rule can carry unquoted (no quotes).
     *
     * @throws IllegalArgumentException saying what is wrong with {@code name}
     */
    private static void checkName(String name, int maxLength, String what) {
        Objects.requireNonNull(name, what);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("the " + what + " must not be empty");
        }
        if (name.length() > maxLength) {
            throw new IllegalArgumentException("the " + what + " \"" + name + "\" is longer than " + maxLength
                    + " characters");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("\"" + name + "\" is not an interface name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || c == '"' || c == '\'' || c == '\\' || Character.isWhitespace(c)
                    || Character.isISOControl(c) || c > 0x7e) {
                throw new IllegalArgumentException("the " + what + " \"" + name + "\" holds '" + c
                        + "', which an interface name cannot");
            }
        }
    }
}
