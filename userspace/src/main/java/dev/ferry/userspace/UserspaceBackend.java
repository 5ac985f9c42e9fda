package dev.ferry.userspace;

import dev.ferry.core.Backend;
import dev.ferry.core.Endpoint;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortName;
import dev.ferry.core.ServicePortState;
import dev.ferry.core.SyncResult;
import dev.ferry.core.SyncTimer;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.userspace.forward.ForwarderStats;
import dev.ferry.userspace.forward.Forwarders;
import dev.ferry.userspace.forward.ServicePortForwarder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * userspace mode: every TCP and UDP service port gets a {@link ServicePortForwarder} in this
 * process, and traffic reaches its listeners one of two ways.
 *
 * <ul>
 *   <li><b>Portals</b> (root with iptables): one listener per service port on --bind-address and
 *       a port from --proxy-port-range; {@link PortalRules} redirect the ClusterIP, NodePort,
 *       external and LoadBalancer IP traffic to it, as upstream's userspace proxier did.</li>
 *   <li><b>Direct</b> (no root or no iptables): no rules; each Service address that is local to
 *       this machine is bound as ip:port, and a NodePort as --bind-address:nodePort. This is what
 *       lets the proxy serve a demo without privileges.</li>
 * </ul>
 *
 * <p>Endpoints: the IPv4 selection's cluster endpoints, or its local ones under
 * internalTrafficPolicy Local. externalTrafficPolicy Local cannot keep the client's address
 * through a proxy that opens its own connection, so external traffic uses the same endpoints.
 *
 * <p>Threads: {@link #sync} and {@link #cleanup} run on the sync thread only; the forwarders
 * run on their own event loops and read {@link #stats()} from any thread. Failures: a listener
 * that cannot bind is reported in the result (the sync fails, is retried, and every other
 * service port is still served); a failed rules apply leaves the rules in place.
 */
final class UserspaceBackend implements Backend {

    private static final Logger log = LoggerFactory.getLogger(UserspaceBackend.class);

    private final Forwarders forwarders;
    private final PortalRules portals; // null: direct mode
    private final InetAddress bindAddress;
    private final PortRange portRange;
    private final LocalAddresses machine;
    private final Map<ServicePortName, Entry> entries = new HashMap<>();
    private final Set<ServicePortName> warnedUnsupported = new HashSet<>();
    private long nextPort; // cursor in portRange
    private List<String> lastWarnings = List.of(); // logged when they change, not on every sync

    /** A service port being served: its forwarder and the addresses it listens on. */
    private static final class Entry {
        final ServicePortForwarder forwarder;
        final Set<InetSocketAddress> bound = new LinkedHashSet<>();

        Entry(ServicePortForwarder forwarder) {
            this.forwarder = forwarder;
        }
    }

    private UserspaceBackend(Forwarders forwarders, PortalRules portals, InetAddress bindAddress,
                             PortRange portRange, LocalAddresses machine) {
        this.forwarders = Objects.requireNonNull(forwarders, "forwarders");
        this.portals = portals;
        this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
        this.portRange = Objects.requireNonNull(portRange, "portRange");
        this.machine = Objects.requireNonNull(machine, "machine");
    }

    /** Portal mode: listeners on {@code bindAddress}, iptables rules redirecting to them. */
    static UserspaceBackend withPortals(Forwarders forwarders, PortalRules portals, InetAddress bindAddress,
                                               PortRange portRange) {
        return new UserspaceBackend(forwarders, Objects.requireNonNull(portals, "portals"), bindAddress, portRange,
                LocalAddresses.ofThisMachine());
    }

    /** Direct mode: listeners on the Service addresses that are among {@code machine}'s (or loopback). */
    static UserspaceBackend direct(Forwarders forwarders, InetAddress bindAddress, LocalAddresses machine) {
        return new UserspaceBackend(forwarders, null, bindAddress, PortRange.EPHEMERAL, machine);
    }

    @Override
    public String mode() {
        return "userspace";
    }

    /** Per service port counters, for the metrics server. */
    Map<ServicePortName, ForwarderStats> stats() {
        Map<ServicePortName, ForwarderStats> out = new TreeMap<>(ProxySnapshot.ORDER);
        synchronized (entries) {
            entries.forEach((name, e) -> out.put(name, e.forwarder.stats()));
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public SyncResult sync(ProxySnapshot snapshot) {
        SyncTimer timer = SyncTimer.start();
        List<String> problems = new ArrayList<>();
        List<Portal> wanted = new ArrayList<>();
        Set<ServicePortName> present = new HashSet<>();
        try {
            // direct mode: the machine's addresses, listed once per sync rather than per Service address
            Set<InetAddress> local = portals == null ? new HashSet<>(machine.addresses()) : Set.of();
            for (ServicePortState state : snapshot.servicePorts()) {
                ServicePort port = state.port();
                if (!supported(port) || port.clusterIP(IpFamily.IPV4).isEmpty()) {
                    continue;
                }
                present.add(port.name());
                Entry entry = entryFor(port.name());
                entry.forwarder.update(endpoints(state), port.stickyMaxAgeSeconds());
                String problem = listen(port, entry, local);
                if (problem != null) {
                    problems.add(problem);
                }
                if (portals != null && !entry.bound.isEmpty()) {
                    wanted.add(new Portal(port, entry.bound.iterator().next().getPort()));
                }
            }
            closeGone(present);
            int rules = 0;
            if (portals != null) {
                PortalRules.Applied applied = portals.apply(wanted, hostAddress(snapshot));
                rules = applied.lines();
                if (!applied.warnings().equals(lastWarnings)) {
                    lastWarnings = applied.warnings();
                    lastWarnings.forEach(w -> log.warn("portal rules: {}", w));
                }
            }
            return problems.isEmpty() ? timer.success(true, rules) : timer.failure(true, String.join("; ", problems));
        } catch (IOException e) {
            return timer.failure(true, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private boolean supported(ServicePort port) {
        if (port.protocol() == Protocol.TCP || port.protocol() == Protocol.UDP) {
            return true;
        }
        if (warnedUnsupported.add(port.name())) {
            log.warn("service port {}: protocol {} is not supported in userspace mode; not served",
                    port.name(), port.protocol());
        }
        return false;
    }

    private Entry entryFor(ServicePortName name) {
        synchronized (entries) {
            return entries.computeIfAbsent(name, n -> new Entry(forwarders.create(n)));
        }
    }

    private static List<InetSocketAddress> endpoints(ServicePortState state) {
        List<Endpoint> chosen = state.port().internalPolicyLocal()
                ? state.ipv4().localEndpoints() : state.ipv4().clusterEndpoints();
        List<InetSocketAddress> out = new ArrayList<>(chosen.size());
        for (Endpoint e : chosen) {
            out.add(new InetSocketAddress(e.ip(), e.port()));
        }
        return out;
    }

    /**
     * Makes the entry listen where this mode wants {@code port} served: new addresses bound,
     * addresses no longer wanted released (with their connections).
     *
     * @return what could not be bound, or null
     */
    private String listen(ServicePort port, Entry entry, Set<InetAddress> local) {
        Set<InetSocketAddress> want = portals != null ? portalAddress(entry) : directAddresses(port, local);
        for (Iterator<InetSocketAddress> it = entry.bound.iterator(); it.hasNext(); ) {
            InetSocketAddress bound = it.next();
            if (!want.contains(bound)) {
                entry.forwarder.unlisten(bound); // the forwarder logs it
                it.remove();
            }
        }
        List<String> failed = new ArrayList<>();
        for (InetSocketAddress address : want) {
            if (entry.bound.contains(address)) {
                continue;
            }
            try {
                InetSocketAddress bound = portals != null ? bindFromRange(entry) : entry.forwarder.listen(address);
                entry.bound.add(bound); // the forwarder logs it
            } catch (IOException e) {
                failed.add(address + " (" + e.getMessage() + ")");
            }
        }
        return failed.isEmpty() ? null : "service port " + port.name() + ": cannot listen on " + String.join(", ", failed);
    }

    /** Portal mode: the one listener it has, or a placeholder meaning "bind one from the range". */
    private Set<InetSocketAddress> portalAddress(Entry entry) {
        if (!entry.bound.isEmpty()) {
            return Set.of(entry.bound.iterator().next());
        }
        return Set.of(new InetSocketAddress(bindAddress, 0));
    }

    /** Binds the next free port of the range (or an ephemeral one), trying each port at most once. */
    private InetSocketAddress bindFromRange(Entry entry) throws IOException {
        if (portRange.ephemeral()) {
            return entry.forwarder.listen(new InetSocketAddress(bindAddress, 0));
        }
        IOException last = null;
        for (int i = 0; i < portRange.size(); i++) {
            int candidate = portRange.port(nextPort++);
            try {
                return entry.forwarder.listen(new InetSocketAddress(bindAddress, candidate));
            } catch (IOException e) {
                last = e; // taken (by us or anyone): the next one
            }
        }
        throw new IOException("no free port in --proxy-port-range " + portRange
                + (last != null ? " (last error: " + last.getMessage() + ")" : ""));
    }

    /** Direct mode: every local Service address at the service port, and the NodePort. */
    private Set<InetSocketAddress> directAddresses(ServicePort port, Set<InetAddress> local) {
        Set<InetSocketAddress> out = new LinkedHashSet<>();
        List<InetAddress> addresses = new ArrayList<>(port.clusterIPs());
        addresses.addAll(port.externalIPs());
        addresses.addAll(port.loadBalancerIPs());
        for (InetAddress a : addresses) {
            if (IpFamily.IPV4.contains(a) && (a.isLoopbackAddress() || local.contains(a))) {
                out.add(new InetSocketAddress(a, port.port()));
            }
        }
        if (port.nodePort() != 0) {
            out.add(new InetSocketAddress(bindAddress, port.nodePort()));
        }
        return out;
    }

    private void closeGone(Set<ServicePortName> present) {
        synchronized (entries) {
            for (Iterator<Map.Entry<ServicePortName, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<ServicePortName, Entry> e = it.next();
                if (!present.contains(e.getKey())) {
                    e.getValue().forwarder.close();
                    it.remove();
                    log.info("service port {}: removed; its listeners and connections are closed", e.getKey());
                }
            }
        }
    }

    /**
     * Where node-originated traffic is DNATed to (upstream's "host IP"): --bind-address when it
     * is a specific address; else the source address this machine uses toward the Services'
     * ClusterIPs, because a UDP reply from a wildcard listener leaves from the address the kernel
     * picks for the client, and only a reply from the DNAT target is translated back to the
     * ClusterIP; else the Node's primary IPv4 address; else the first IPv4 address of this
     * machine that is not loopback.
     */
    private InetAddress hostAddress(ProxySnapshot snapshot) throws IOException {
        if (!bindAddress.isAnyLocalAddress()) {
            return bindAddress;
        }
        for (ServicePortState state : snapshot.servicePorts()) {
            var clusterIP = state.port().clusterIP(IpFamily.IPV4);
            if (clusterIP.isPresent()) {
                InetAddress source = sourceToward(clusterIP.get());
                if (source != null) {
                    return source;
                }
                break; // ClusterIPs share their route: one lookup says it
            }
        }
        if (snapshot.node() != null) {
            var primary = snapshot.node().primaryAddress(IpFamily.IPV4);
            if (primary.isPresent()) {
                return primary.get();
            }
        }
        for (InetAddress a : machine.addresses()) {
            if (IpFamily.IPV4.contains(a) && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                return a;
            }
        }
        throw new IOException("no IPv4 address of this machine to DNAT the node's own Service traffic to "
                + "(give one with --bind-address)");
    }

    /** The kernel's source address for a route to {@code target} (a connected UDP socket sends nothing), or null. */
    private static InetAddress sourceToward(InetAddress target) {
        try (DatagramSocket probe = new DatagramSocket()) {
            probe.connect(target, 9);
            InetAddress source = probe.getLocalAddress();
            return source == null || source.isAnyLocalAddress() || source.isLoopbackAddress() ? null : source;
        } catch (IOException | RuntimeException e) {
            return null; // no route: the fallbacks decide
        }
    }

    @Override
    public SyncResult cleanup() {
        // The rules go with every KUBE-* chain in the iptables backend's cleanup; the listeners
        // live only in this process.
        return SyncResult.success(true, 0, Duration.ZERO);
    }

    /** Closes every listener and connection, and the forwarders' event loops (the rules stay, as on SIGTERM in every mode). */
    @Override
    public void close() {
        synchronized (entries) {
            entries.values().forEach(e -> e.forwarder.close());
            entries.clear();
        }
        forwarders.close();
    }
}
