package dev.ferry.nativeio.rtnetlink;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.NetlinkMessage;
import dev.ferry.nativeio.NetlinkSocket;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Links and their addresses over rtnetlink (NETLINK_ROUTE), for the kube-ipvs0 dummy link of IPVS mode: create
 * it if missing, keep exactly the service addresses on it, delete it on cleanup. Replaces `ip link` and
 * `ip addr`.
 *
 * <p>Threads: one call at a time (public methods are synchronized, so a sync's dump and the changes it makes
 * are not interleaved with another caller's); other processes may still change the link meanwhile, which the
 * next sync corrects. Failures: an {@link IOException} naming the request and the kernel's errno; an address or
 * link that is already the way a call wants it is not one. {@link #syncAddresses} tries every change before it reports the first failure, so
 * one bad address does not keep the others off the link; the next sync retries whatever is still wrong.
 */
public final class Links implements AutoCloseable {

    /** Not in {@link Errno}: what RTM_DELADDR answers for an address the link does not have. */
    static final int EADDRNOTAVAIL = 99;
    /** Dumps the kernel flags as interrupted (the table changed meanwhile) are read again, this many times. */
    private static final int DUMP_ATTEMPTS = 5;

    private final NetlinkSocket socket;

    private Links(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** Links of this process's network namespace. */
    public static Links open() throws IOException {
        return new Links(NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE));
    }

    /** Links of the network namespace {@code netnsFile} refers to (e.g. /run/netns/NAME). */
    public static Links open(Path netnsFile) throws IOException {
        return new Links(NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE, netnsFile));
    }

    /** The link called {@code name}, if there is one. */
    public synchronized Optional<Link> link(String name) throws IOException {
        RtnetlinkCodec.checkName(name);
        List<NetlinkMessage> replies;
        try {
            replies = socket.request(RtnetlinkCodec.RTM_GETLINK, 0, RtnetlinkCodec.getLinkRequest(name),
                    "get link " + name);
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENODEV) {
                return Optional.empty();
            }
            throw e;
        }
        for (NetlinkMessage m : replies) {
            Link link = decode(m, "get link " + name);
            if (link != null && link.name().equals(name)) {
                return Optional.of(link);
            }
        }
        throw new IOException("get link " + name + ": the kernel acknowledged without describing the link");
    }

    /** The index of the link called {@code name}, if there is one. */
    public synchronized OptionalInt index(String name) throws IOException {
        Optional<Link> link = link(name);
        return link.isPresent() ? OptionalInt.of(link.get().index()) : OptionalInt.empty();
    }

    /**
     * Creates the dummy link {@code name} unless a link of that name exists, and returns its index. Like
     * upstream kube-proxy, a new link is left down (addresses on it are still local to the node) and an
     * existing link of that name is used whatever its kind.
     */
    public synchronized int ensureDummy(String name) throws IOException {
        RtnetlinkCodec.checkName(name);
        try {
            socket.request(RtnetlinkCodec.RTM_NEWLINK, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL,
                    RtnetlinkCodec.newDummyRequest(name), "create dummy link " + name);
        } catch (NetlinkException e) {
            if (e.errno() != Errno.EEXIST) {
                throw e;
            }
        }
        // Looked up even after creating it: the acknowledgement does not carry the new index.
        return index(name).orElseThrow(() -> new IOException("link " + name + " vanished right after it was created"));
    }

    /**
     * Deletes the dummy link {@code name}.
     *
     * @return true when it was deleted, false when there was no such link
     * @throws IOException when a link of that name is not a dummy link (never ours to delete), or the kernel refuses
     */
    public synchronized boolean deleteLink(String name) throws IOException {
        Optional<Link> link = link(name);
        if (link.isEmpty()) {
            return false;
        }
        if (!link.get().kind().equals("dummy")) {
            throw new IOException("delete link " + name + ": it is of kind \"" + link.get().kind()
                    + "\", not a dummy link; left in place");
        }
        try {
            socket.request(RtnetlinkCodec.RTM_DELLINK, 0, RtnetlinkCodec.deleteLinkRequest(link.get().index()),
                    "delete link " + name);
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == Errno.ENODEV) {
                return false;
            }
            throw e;
        }
    }

    /** The addresses on link {@code ifindex}, of both families, whatever their prefix length. */
    public synchronized Set<InetAddress> addresses(int ifindex) throws IOException {
        Set<InetAddress> out = new LinkedHashSet<>();
        for (LinkAddress a : linkAddresses(ifindex)) {
            out.add(a.address());
        }
        return out;
    }

    /**
     * Adds {@code address} to link {@code ifindex} as a host address (/32 or /128).
     *
     * @return true when it was added, false when the link already had it with that prefix length
     */
    public synchronized boolean addAddress(int ifindex, InetAddress address) throws IOException {
        Objects.requireNonNull(address, "address");
        return add(ifindex, address);
    }

    /**
     * Removes the host address {@code address} (/32 or /128) from link {@code ifindex}.
     *
     * @return true when it was removed, false when the link did not have it
     */
    public synchronized boolean deleteAddress(int ifindex, InetAddress address) throws IOException {
        Objects.requireNonNull(address, "address");
        return delete(new LinkAddress(ifindex, address, RtnetlinkCodec.hostPrefix(address)));
    }

    /**
     * Makes the addresses of link {@code ifindex} exactly {@code wanted}, each as /32 or /128: adds the missing
     * ones, removes the rest (and a wanted address with another prefix length, which it then adds back as a
     * host address). Like upstream, it leaves IPv6 link-local and loopback addresses alone.
     *
     * @throws IllegalArgumentException when {@code wanted} holds a loopback or IPv6 link-local address
     */
    public synchronized AddressChanges syncAddresses(int ifindex, Set<InetAddress> wanted) throws IOException {
        return sync(ifindex, null, wanted);
    }

    /**
     * As {@link #syncAddresses(int, Set)}, but only for the addresses of {@code family}, leaving the other
     * family's alone: what one single-stack proxier does when two share the link, as upstream's do.
     *
     * @throws IllegalArgumentException when {@code wanted} holds an address of the other family
     */
    public synchronized AddressChanges syncAddresses(int ifindex, AddressFamily family, Set<InetAddress> wanted)
            throws IOException {
        Objects.requireNonNull(family, "family");
        return sync(ifindex, family, wanted);
    }

    private AddressChanges sync(int ifindex, AddressFamily family, Set<InetAddress> wanted) throws IOException {
        RtnetlinkCodec.checkIndex(ifindex);
        Objects.requireNonNull(wanted, "wanted");
        for (InetAddress w : wanted) {
            Objects.requireNonNull(w, "wanted holds null");
            if (family != null && RtnetlinkCodec.family(w) != family) {
                throw new IllegalArgumentException("wanted address " + w.getHostAddress() + " is not " + family);
            }
            if (!managed(w, null)) {
                throw new IllegalArgumentException("wanted address " + w.getHostAddress()
                        + " is loopback or IPv6 link-local; the sync leaves those alone, so it cannot want them");
            }
        }
        Set<InetAddress> present = new LinkedHashSet<>();
        List<LinkAddress> stale = new ArrayList<>();
        for (LinkAddress a : linkAddresses(ifindex)) {
            if (!managed(a.address(), family)) {
                continue;
            }
            if (wanted.contains(a.address()) && a.prefixLength() == RtnetlinkCodec.hostPrefix(a.address())) {
                present.add(a.address());
            } else {
                stale.add(a);
            }
        }
        Set<InetAddress> added = new LinkedHashSet<>();
        Set<InetAddress> removed = new LinkedHashSet<>();
        IOException failure = null;
        // Stale ones first: a wanted address listed with the wrong prefix must go before it can come back as /32.
        for (LinkAddress a : stale) {
            try {
                if (delete(a)) {
                    removed.add(a.address());
                }
            } catch (IOException e) {
                failure = first(failure, e);
            }
        }
        for (InetAddress w : wanted) {
            if (present.contains(w)) {
                continue;
            }
            try {
                if (add(ifindex, w)) {
                    added.add(w);
                }
            } catch (IOException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
        return new AddressChanges(added, removed);
    }

    /** Upstream lists neither IPv6 link-local nor loopback addresses on kube-ipvs0, so it never removes them. */
    private static boolean managed(InetAddress a, AddressFamily family) {
        if (family != null && RtnetlinkCodec.family(a) != family) {
            return false;
        }
        return !a.isLoopbackAddress() && !(a instanceof Inet6Address && a.isLinkLocalAddress());
    }

    private boolean add(int ifindex, InetAddress address) throws IOException {
        String what = "add address " + address.getHostAddress() + "/" + RtnetlinkCodec.hostPrefix(address)
                + " to link " + ifindex;
        try {
            socket.request(RtnetlinkCodec.RTM_NEWADDR, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL,
                    RtnetlinkCodec.addressRequest(ifindex, address, RtnetlinkCodec.hostPrefix(address)), what);
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == Errno.EEXIST) {
                return false;
            }
            throw e;
        }
    }

    private boolean delete(LinkAddress a) throws IOException {
        try {
            socket.request(RtnetlinkCodec.RTM_DELADDR, 0,
                    RtnetlinkCodec.addressRequest(a.index(), a.address(), a.prefixLength()), "delete address " + a);
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == EADDRNOTAVAIL) {
                return false;
            }
            throw e;
        }
    }

    /** Every address on link {@code ifindex}, from a consistent dump. */
    List<LinkAddress> linkAddresses(int ifindex) throws IOException {
        RtnetlinkCodec.checkIndex(ifindex);
        return socket.dumpAll(RtnetlinkCodec.RTM_GETADDR, RtnetlinkCodec.addressDumpRequest(),
                "list addresses of link " + ifindex, DUMP_ATTEMPTS, m -> {
                    LinkAddress a = RtnetlinkCodec.decodeAddress(m);
                    return a != null && a.index() == ifindex ? a : null;
                });
    }

    private static Link decode(NetlinkMessage m, String what) throws IOException {
        try {
            return RtnetlinkCodec.decodeLink(m);
        } catch (IllegalArgumentException e) {
            throw new IOException(what + ": malformed answer: " + e.getMessage(), e);
        }
    }

    private static IOException first(IOException failure, IOException e) {
        if (failure == null) {
            return e;
        }
        failure.addSuppressed(e);
        return failure;
    }

    @Override
    public void close() {
        socket.close();
    }

    @Override
    public String toString() {
        return "links over " + socket;
    }
}
