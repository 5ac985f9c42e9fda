package dev.ferry.proxy;

import dev.ferry.core.IpAddresses;
import dev.ferry.mode.FlagConverters;
import picocli.CommandLine.ITypeConverter;

import java.net.InetAddress;

/**
 * An "ip:port" a server listens on ("[v6]:port" for IPv6), as --healthz-bind-address and
 * --metrics-bind-address take it; an IP alone means the server's default port, as upstream's IPPortVar.
 */
record BindAddress(InetAddress address, int port) {

    /** {@code text} as ip:port, or an IP alone with {@code defaultPort}. */
    static BindAddress parse(String text, int defaultPort) {
        return isAddressAlone(text) ? new BindAddress(IpAddresses.parse(text), defaultPort) : parse(text);
    }

    /** Whether {@code text} is an IP address without a port (IPv6 without brackets). */
    static boolean isAddressAlone(String text) {
        return IpAddresses.isValid(text);
    }

    static BindAddress parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("\"" + text + "\" is not ip:port");
        }
        String host = text.substring(0, colon);
        String portText = text.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            if (host.indexOf(':') < 0) {
                throw new IllegalArgumentException("\"" + text + "\": brackets are only for IPv6 addresses");
            }
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("\"" + text + "\": an IPv6 address needs brackets, e.g. [::]:10256");
        }
        InetAddress address;
        try {
            address = IpAddresses.parse(host);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + text + "\": " + e.getMessage());
        }
        if (portText.isEmpty() || portText.length() > 5 || !portText.chars().allMatch(Character::isDigit)
                || Integer.parseInt(portText) > 65535) {
            throw new IllegalArgumentException("\"" + text + "\": port must be a number 0..65535");
        }
        return new BindAddress(address, Integer.parseInt(portText));
    }

    @Override
    public String toString() {
        return IpAddresses.hostPort(address, port);
    }

    /** --healthz-bind-address: ip:port, or an IP alone with port 10256, as upstream's IPPortVar; "" disables the server. */
    static final class HealthzConverter implements ITypeConverter<BindAddress> {
        @Override
        public BindAddress convert(String value) {
            return flagValue(value, ProxyOptions.HEALTHZ_PORT);
        }
    }

    /** --metrics-bind-address: the same with port 10249. */
    static final class MetricsConverter implements ITypeConverter<BindAddress> {
        @Override
        public BindAddress convert(String value) {
            return flagValue(value, ProxyOptions.METRICS_PORT);
        }
    }

    private static BindAddress flagValue(String value, int defaultPort) {
        if (value.isBlank()) {
            return null; // disabled
        }
        return FlagConverters.parsed(value.trim(), v -> parse(v, defaultPort));
    }
}
