package dev.ferry.nftables;

/** The address family of an nf_tables table (NFPROTO_*), with the name nft gives it. */
public enum TableFamily {
    INET(1, "inet"),
    IPV4(2, "ip"),
    ARP(3, "arp"),
    NETDEV(5, "netdev"),
    BRIDGE(7, "bridge"),
    IPV6(10, "ip6");

    private final int number;
    private final String nftName;

    TableFamily(int number, String nftName) {
        this.number = number;
        this.nftName = nftName;
    }

    /** The NFPROTO_* value the kernel uses. */
    public int number() {
        return number;
    }

    /** "ip", "ip6", "inet"...: as nft writes it. */
    public String nftName() {
        return nftName;
    }

    /** The family of NFPROTO_* value {@code number}; null for one not listed here. */
    static TableFamily of(int number) {
        for (TableFamily f : values()) {
            if (f.number == number) {
                return f;
            }
        }
        return null;
    }
}
