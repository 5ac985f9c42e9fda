package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.rtnetlink.AddressChanges;
import dev.ferry.nativeio.rtnetlink.Links;

import java.io.IOException;
import java.net.InetAddress;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The kube-ipvs0 dummy link as the backend uses it: over {@link Links} on a node, a fake in unit tests. Failures
 * are IOExceptions naming the request.
 */
interface DummyLink {

    String NAME = "kube-ipvs0";

    /** Creates the link if it is missing. */
    void ensure() throws IOException;

    /** Its addresses of {@code family}; empty when the link does not exist. */
    Set<InetAddress> addresses(IpFamily family) throws IOException;

    /** Leaves exactly {@code wanted} of {@code family} on the link (which must exist); the other family is kept. */
    AddressChanges sync(IpFamily family, Set<InetAddress> wanted) throws IOException;

    /** Deletes the link; false when it was not there. */
    boolean delete() throws IOException;

    static DummyLink over(Links links) {
        Objects.requireNonNull(links, "links");
        return new DummyLink() {
            @Override
            public void ensure() throws IOException {
                links.ensureDummy(NAME);
            }

            @Override
            public Set<InetAddress> addresses(IpFamily family) throws IOException {
                OptionalInt index = links.index(NAME);
                Set<InetAddress> out = new LinkedHashSet<>();
                if (index.isPresent()) {
                    for (InetAddress a : links.addresses(index.getAsInt())) {
                        if (family.contains(a)) {
                            out.add(a);
                        }
                    }
                }
                return out;
            }

            @Override
            public AddressChanges sync(IpFamily family, Set<InetAddress> wanted) throws IOException {
                OptionalInt index = links.index(NAME);
                if (index.isEmpty()) {
                    throw new IOException(NAME + " does not exist");
                }
                return links.syncAddresses(index.getAsInt(),
                        AddressFamily.of(family.af()), wanted);
            }

            @Override
            public boolean delete() throws IOException {
                return links.deleteLink(NAME);
            }
        };
    }
}
