package dev.ferry.nativeio;

/** The two address families netlink requests name (AF_INET, AF_INET6). */
public enum AddressFamily {
    INET(2, 4), INET6(10, 16);

    private final int value;
    private final int addressLength;

    AddressFamily(int value, int addressLength) {
        this.value = value;
        this.addressLength = addressLength;
    }

    /** The AF_* number. */
    public int value() {
        return value;
    }

    /** Bytes in an address of this family. */
    public int addressLength() {
        return addressLength;
    }

    /** The family of an AF_* number; null for any other. */
    public static AddressFamily of(int value) {
        for (AddressFamily f : values()) {
            if (f.value == value) {
                return f;
            }
        }
        return null;
    }
}
