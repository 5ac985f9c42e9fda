package dev.ferry.nativeio.rtnetlink;

import java.net.InetAddress;
import java.util.Set;

/**
 * What {@link Links#syncAddresses} changed on a link.
 *
 * @param added   addresses it added (as /32 or /128)
 * @param removed addresses it removed: stale ones, and wanted ones it found with another prefix length (those
 *                are also in {@code added}, with the right prefix)
 */
public record AddressChanges(Set<InetAddress> added, Set<InetAddress> removed) {

    public AddressChanges {
        added = Set.copyOf(added);
        removed = Set.copyOf(removed);
    }

    public boolean isEmpty() {
        return added.isEmpty() && removed.isEmpty();
    }
}
