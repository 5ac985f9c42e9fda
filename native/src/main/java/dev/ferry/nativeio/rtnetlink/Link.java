package dev.ferry.nativeio.rtnetlink;

import java.util.Objects;

/**
 * A network link as the kernel describes it.
 *
 * @param index the interface index (positive)
 * @param name  the interface name
 * @param kind  IFLA_INFO_KIND ("dummy", "veth", ...); empty for links without one (lo, physical devices)
 * @param up    whether IFF_UP is set (administratively up)
 */
public record Link(int index, String name, String kind, boolean up) {

    public Link {
        if (index <= 0) {
            throw new IllegalArgumentException("link index must be positive, got " + index);
        }
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
    }
}
