package dev.ferry.proxy;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The --proxy-mode values; how each is built is decided in {@link Backends}. */
enum ProxyMode {
    IPTABLES("iptables"),
    IPVS("ipvs"),
    USERSPACE("userspace");

    private final String flagValue;

    ProxyMode(String flagValue) {
        this.flagValue = flagValue;
    }

    String flagValue() {
        return flagValue;
    }

    /** "" means the default, iptables, as upstream on Linux. */
    static ProxyMode parse(String text) {
        if (text == null || text.isEmpty()) {
            return IPTABLES;
        }
        for (ProxyMode m : values()) {
            if (m.flagValue.equals(text)) {
                return m;
            }
        }
        throw new IllegalArgumentException("\"" + text + "\" is not a proxy mode (one of "
                + Arrays.stream(values()).map(ProxyMode::flagValue).collect(Collectors.joining(", ")) + ")");
    }

    @Override
    public String toString() {
        return flagValue;
    }
}
