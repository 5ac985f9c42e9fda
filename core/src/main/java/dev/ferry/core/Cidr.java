package dev.ferry.core;

import java.net.InetAddress;
import java.util.Arrays;

/** An IP network, e.g. 10.0.0.0/8; the address is stored with host bits cleared. */
public record Cidr(InetAddress network, int prefixLength) {

    public Cidr {
        int bits = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range 0.." + bits);
        }
        network = mask(network, prefixLength);
    }

    /**
     * Parses "ip/prefix"; a bare IP is a host route (/32 or /128).
     *
     * @throws IllegalArgumentException naming the value when it is malformed
     */
    public static Cidr parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty CIDR");
        }
        String t = text.trim();
        int slash = t.indexOf('/');
        InetAddress ip;
        try {
            ip = IpAddresses.parse(slash < 0 ? t : t.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a CIDR");
        }
        int bits = ip.getAddress().length * 8;
        if (slash < 0) {
            return new Cidr(ip, bits);
        }
        String p = t.substring(slash + 1);
        if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("\"" + text + "\" is not a CIDR");
        }
        int prefix = Integer.parseInt(p);
        if (prefix > bits) {
            throw new IllegalArgumentException("\"" + text + "\": prefix length " + prefix + " exceeds " + bits);
        }
        return new Cidr(ip, prefix);
    }

    public IpFamily family() {
        return IpFamily.of(network);
    }

    public boolean contains(InetAddress address) {
        if (address.getAddress().length != network.getAddress().length) {
            return false;
        }
        return Arrays.equals(mask(address, prefixLength).getAddress(), network.getAddress());
    }

    private static InetAddress mask(InetAddress address, int prefix) {
        byte[] b = address.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - 8 * i));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** "network/prefix" in canonical form, as iptables prints it. */
    @Override
    public String toString() {
        return IpAddresses.format(network) + "/" + prefixLength;
    }
}
