package dev.ferry.proxy.conntrack;

import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortName;
import dev.ferry.core.ServicePortState;
import dev.ferry.core.StaleFlows;
import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Deletes the UDP conntrack flows that would keep blackholing a Service's traffic after its
 * endpoints changed ({@link StaleFlows} decides which): after each successful sync of a family,
 * one dump of that family's table, then one delete per stale flow. Replaces upstream's
 * conntrack reconciler; talks ctnetlink, no conntrack(8) at run time.
 *
 * <p>Threads: {@link #reconcile} runs on the sync thread, one call at a time; the counters are
 * read from any thread (metrics). Failures: never throws. A failed dump or delete is logged and
 * counted in {@link #errors}; the service ports seen are then not remembered, so flows of
 * ports removed meanwhile are still looked for on the next run.
 */
public final class ConntrackReconciler implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConntrackReconciler.class);

    /** Per family, for kubeproxy_conntrack_reconciler_* metrics. */
    private static final class Counters {
        final AtomicLong runs = new AtomicLong();
        final AtomicLong deleted = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong nanosTotal = new AtomicLong();
        final AtomicLong lastNanos = new AtomicLong();
    }

    private final FlowTable table;
    private final Supplier<Predicate<InetAddress>> localAddresses;
    private final Map<IpFamily, Counters> counters = new EnumMap<>(IpFamily.class);
    /** UDP service ports as of the last complete run, per family; sync thread only. */
    private final Map<IpFamily, Map<ServicePortName, ServicePort>> lastSeen = new EnumMap<>(IpFamily.class);

    ConntrackReconciler(FlowTable table, Supplier<Predicate<InetAddress>> localAddresses) {
        this.table = Objects.requireNonNull(table, "table");
        this.localAddresses = Objects.requireNonNull(localAddresses, "localAddresses");
        for (IpFamily f : IpFamily.values()) {
            counters.put(f, new Counters());
        }
    }

    /** This process's conntrack table and this host's addresses, read at every run. */
    public static ConntrackReconciler overNetlink() {
        return new ConntrackReconciler(new NetlinkFlowTable(null), HostAddresses::current);
    }

    /**
     * The conntrack table of another network namespace (e.g. /run/netns/NAME), whose local
     * addresses the caller knows.
     */
    public static ConntrackReconciler inNamespace(Path netnsFile, Set<InetAddress> localAddresses) {
        Predicate<InetAddress> local = HostAddresses.of(localAddresses);
        return new ConntrackReconciler(new NetlinkFlowTable(Objects.requireNonNull(netnsFile, "netnsFile")), () -> local);
    }

    /** Deletes the stale UDP flows of {@code family} for the node {@code snapshot} describes. Never throws. */
    public void reconcile(IpFamily family, ProxySnapshot snapshot) {
        Counters c = counters.get(family);
        long start = System.nanoTime();
        try {
            Map<ServicePortName, ServicePort> current = udpPorts(snapshot);
            List<ServicePort> removed = new ArrayList<>();
            lastSeen.getOrDefault(family, Map.of()).forEach((name, port) -> {
                if (!port.equals(current.get(name))) {
                    removed.add(port); // gone, or its frontends changed: its old frontends count as removed
                }
            });
            StaleFlows rule = StaleFlows.of(family, snapshot.servicePorts(), removed, localAddresses.get());
            if (rule.isEmpty()) {
                lastSeen.put(family, current);
                return;
            }
            List<ConntrackFlow> stale = new ArrayList<>();
            int[] seen = {0};
            boolean consistent = table.dump(addressFamily(family), flow -> {
                seen[0]++;
                if (rule.isStale(view(flow))) {
                    stale.add(flow);
                }
            });
            if (!consistent) {
                log.debug("conntrack {}: the table changed during the dump; deciding on what was read", label(family));
            }
            int deleted = 0;
            int failed = 0;
            IOException firstFailure = null;
            for (ConntrackFlow flow : stale) {
                try {
                    if (table.delete(flow)) {
                        deleted++;
                        log.debug("conntrack {}: deleted stale flow {}", label(family), flow);
                    }
                } catch (IOException e) {
                    failed++;
                    firstFailure = firstFailure == null ? e : firstFailure;
                }
            }
            c.deleted.addAndGet(deleted);
            long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
            if (failed > 0) {
                c.errors.incrementAndGet();
                log.warn("conntrack {}: {} of {} stale UDP flows could not be deleted (first: {}); retrying after the next sync",
                        label(family), failed, stale.size(), firstFailure.getMessage());
                return;
            }
            lastSeen.put(family, current);
            if (deleted > 0) {
                log.info("conntrack {}: deleted {} stale UDP flows ({} flows checked) in {} ms", label(family), deleted,
                        seen[0], ms);
            } else {
                log.debug("conntrack {}: no stale UDP flow ({} flows checked) in {} ms", label(family), seen[0], ms);
            }
        } catch (IOException | RuntimeException e) {
            c.errors.incrementAndGet();
            log.warn("conntrack {}: cleaning stale UDP flows failed: {}; retrying after the next sync", label(family),
                    e.getMessage() != null ? e.getMessage() : e.toString());
        } finally {
            long nanos = System.nanoTime() - start;
            c.runs.incrementAndGet();
            c.nanosTotal.addAndGet(nanos);
            c.lastNanos.set(nanos);
        }
    }

    /** Flows deleted so far (kubeproxy_conntrack_reconciler_deleted_entries_total{ip_family}). */
    public long deletedEntries(IpFamily family) {
        return counters.get(family).deleted.get();
    }

    /** Runs that failed in part or whole. */
    public long errors(IpFamily family) {
        return counters.get(family).errors.get();
    }

    /** Runs so far (the count of kubeproxy_conntrack_reconciler_sync_duration_seconds). */
    public long runs(IpFamily family) {
        return counters.get(family).runs.get();
    }

    /** Seconds spent in all runs (the sum of kubeproxy_conntrack_reconciler_sync_duration_seconds). */
    public double durationSecondsTotal(IpFamily family) {
        return counters.get(family).nanosTotal.get() / 1e9;
    }

    public Duration lastDuration(IpFamily family) {
        return Duration.ofNanos(counters.get(family).lastNanos.get());
    }

    @Override
    public void close() {
        table.close();
    }

    private static Map<ServicePortName, ServicePort> udpPorts(ProxySnapshot snapshot) {
        Map<ServicePortName, ServicePort> out = new HashMap<>();
        for (ServicePortState s : snapshot.servicePorts()) {
            if (s.port().protocol() == Protocol.UDP) {
                out.put(s.name(), s.port());
            }
        }
        return out;
    }

    static StaleFlows.Flow view(ConntrackFlow flow) {
        return new StaleFlows.Flow(flow.protocol(), flow.original().destination(), flow.original().destinationPort(),
                flow.reply().source(), flow.reply().sourcePort());
    }

    private static AddressFamily addressFamily(IpFamily family) {
        return AddressFamily.of(family.af());
    }

    private static String label(IpFamily family) {
        return family.label();
    }
}
