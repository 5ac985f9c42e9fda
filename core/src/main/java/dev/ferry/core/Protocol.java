package dev.ferry.core;

import java.util.Locale;

/** A Service port's transport protocol. */
public enum Protocol {
    TCP, UDP, SCTP;

    /** Lower-case name, as iptables and upstream's chain-name hash spell it. */
    public String lower() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses the Kubernetes spelling; an empty or null value is TCP, as the API server defaults it.
     *
     * @throws IllegalArgumentException for any other value
     */
    public static Protocol parse(String value) {
        if (value == null || value.isEmpty()) {
            return TCP;
        }
        switch (value) {
            case "TCP": return TCP;
            case "UDP": return UDP;
            case "SCTP": return SCTP;
            default: throw new IllegalArgumentException("unknown protocol \"" + value + "\" (want TCP, UDP or SCTP)");
        }
    }
}
