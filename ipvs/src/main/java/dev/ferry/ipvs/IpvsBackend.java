package dev.ferry.ipvs;

import dev.ferry.core.Backend;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortPlan;
import dev.ferry.core.SyncResult;
import dev.ferry.core.SyncTimer;
import dev.ferry.ipvs.netlink.IpvsClient;
import dev.ferry.ipvs.netlink.VirtualServer;
import dev.ferry.nativeio.rtnetlink.Links;
import dev.ferry.netfilter.CleanupPlan;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.Iptables;
import dev.ferry.netfilter.KernelSettingException;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.netfilter.NodePortAddresses;
import dev.ferry.netfilter.Sysctls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * IPVS mode for one IP family. Each sync: plan the virtual servers ({@link IpvsPlan}), make kube-ipvs0 carry
 * exactly this family's service addresses, bring the IPVS table in line ({@link IpvsSync}: a diff, never a flush,
 * graceful termination), then write and apply the ipsets and iptables rules ({@link IpvsRules}); the first sync whose
 * rules applied then removes the chains other proxy modes left that this one does not use. Each step runs even
 * when an earlier one failed (a missing address must not keep the other services from working); every failure is
 * reported in the {@link SyncResult} naming the object, and the next sync, which compares again, is the retry.
 *
 * <p>Draining real servers (weight 0, connections left) are logged; the periodic sync (--ipvs-sync-period, 30 s by
 * default, more often than upstream's one-minute graceful-termination check) deletes them once they are idle. The
 * result does not ask for an earlier retry: {@link SyncResult} has no such field, and reporting a failure to get one
 * would make health lie.
 *
 * <p>Threads: {@link #sync} and {@link #cleanup} run on the daemon's sync thread only; {@link #close} after the
 * last sync. Two backends (IPv4 and IPv6) share kube-ipvs0; each changes only its own family's addresses.
 */
final class IpvsBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(IpvsBackend.class);

    /** Upstream's sysctls for IPVS mode (pkg/proxy/ipvs/proxier.go, NewProxier). */
    static final String VS_CONNTRACK = "net/ipv4/vs/conntrack";
    static final String VS_EXPIRE_NODEST_CONN = "net/ipv4/vs/expire_nodest_conn";
    static final String VS_EXPIRE_QUIESCENT_TEMPLATE = "net/ipv4/vs/expire_quiescent_template";
    static final String IP_FORWARD = "net/ipv4/ip_forward";
    static final String ARP_IGNORE = "net/ipv4/conf/all/arp_ignore";
    static final String ARP_ANNOUNCE = "net/ipv4/conf/all/arp_announce";

    private final IpFamily family;
    private final IpvsConfig config;
    private final IpvsTable table; // null: no IPVS in this kernel (cleanup only)
    private final DummyLink link;
    private final CommandRunner runner;
    private final LocalAddresses localAddresses;
    private final AutoCloseable resources;
    private final IpvsSync ipvsSync;
    private final IpsetWriter ipsetWriter;
    private final IpvsRuleWriter ruleWriter;
    private final AtomicLong failedSyncs = new AtomicLong();
    /** Whether the other modes' chains are gone (the first sync whose rules applied removes them). */
    private boolean leftoversRemoved;

    IpvsBackend(IpFamily family, IpvsConfig config, IpvsTable table, DummyLink link, CommandRunner runner,
                LocalAddresses localAddresses, AutoCloseable resources) {
        this.family = Objects.requireNonNull(family, "family");
        this.config = Objects.requireNonNull(config, "config");
        this.table = table;
        this.link = Objects.requireNonNull(link, "link");
        this.runner = Objects.requireNonNull(runner, "runner");
        this.localAddresses = Objects.requireNonNull(localAddresses, "localAddresses");
        this.resources = Objects.requireNonNull(resources, "resources");
        this.ipvsSync = table == null ? null : new IpvsSync(table, config.excludeCidrs());
        this.ipsetWriter = new IpsetWriter(family, config.network());
        this.ruleWriter = new IpvsRuleWriter(family, config.network(), true);
        new IpvsSettings(config.scheduler(), List.of(), Set.of()); // fail fast on a bad scheduler name
    }

    /**
     * A backend programming this process's network namespace, after upstream's start-up steps: the IPVS sysctls
     * (and strict ARP) and the connection timeouts.
     *
     * @throws IOException when IPVS is not available in this kernel (the message says so) or a sysctl cannot be set
     */
    static IpvsBackend open(IpFamily family, IpvsConfig config, CommandRunner runner) throws IOException {
        if (!runner.appliesChanges()) {
            throw new IOException("IPVS mode has no dry run: it programs the kernel over netlink, not through commands");
        }
        IpvsClient client;
        try {
            client = IpvsClient.open();
        } catch (IOException e) {
            throw new IOException("IPVS is not available in this kernel: " + e.getMessage(), e);
        }
        Links links;
        try {
            links = Links.open();
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        AutoCloseable both = () -> {
            links.close();
            client.close();
        };
        try {
            probeScheduler(new ClientTable(client), config.scheduler());
            prepareKernel(Sysctls.procSys(), config);
            if (config.setsTimeouts()) {
                try {
                    client.setTimeouts(config.timeouts());
                } catch (IOException e) {
                    // as upstream: the proxy works with the kernel's timeouts, so this is not fatal
                    LOG.error("cannot set the IPVS connection timeouts: {}", e.getMessage());
                }
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(both);
            throw e;
        }
        return new IpvsBackend(family, config, new ClientTable(client), DummyLink.over(links), runner,
                LocalAddresses.ofThisMachine(), both);
    }

    /**
     * A backend for --cleanup only: without IPVS in the kernel there are no virtual servers to delete, but ipsets,
     * chains and kube-ipvs0 may still be left from an earlier run, so it still removes those.
     */
    static IpvsBackend forCleanup(IpFamily family, IpvsConfig config, CommandRunner runner) throws IOException {
        IpvsClient client = null;
        try {
            client = IpvsClient.open();
        } catch (IOException e) {
            LOG.info("IPVS is not available in this kernel ({}); no IPVS services to clean up", e.getMessage());
        }
        Links links;
        try {
            links = Links.open();
        } catch (IOException | RuntimeException e) {
            if (client != null) {
                client.close();
            }
            throw e;
        }
        IpvsClient c = client;
        AutoCloseable both = () -> {
            links.close();
            if (c != null) {
                c.close();
            }
        };
        return new IpvsBackend(family, config, c == null ? null : new ClientTable(c), DummyLink.over(links), runner,
                LocalAddresses.ofThisMachine(), both);
    }

    /** The address and port of upstream's start-up probe (canUseIPVSProxier's dummy virtual server). */
    static final VirtualServer probe(String scheduler) {
        return VirtualServer.of(Protocol.TCP, IpAddresses.parse("0.0.0.0"), 20000,
                scheduler.isEmpty() ? IpvsSettings.DEFAULT_SCHEDULER : scheduler);
    }

    /**
     * As upstream at start: a scheduler whose kernel module is missing fails startup, not every service later.
     * Adds a dummy virtual server with the scheduler and deletes it again; one that was already there (not ours) is
     * left alone.
     */
    static void probeScheduler(IpvsTable table, String scheduler) throws IOException {
        VirtualServer vs = probe(scheduler);
        for (VirtualServer existing : table.services()) {
            if (existing.protocol() == vs.protocol() && existing.address().equals(vs.address())
                    && existing.port() == vs.port()) {
                return;
            }
        }
        try {
            table.addService(vs);
        } catch (IOException e) {
            throw new IOException("IPVS scheduler \"" + vs.scheduler() + "\" is not usable (is the ip_vs_"
                    + vs.scheduler() + " module loaded?): " + e.getMessage(), e);
        }
        table.deleteService(vs);
    }

    /** Upstream's sysctls for IPVS mode; each is written only when it differs. */
    static void prepareKernel(Sysctls sysctls, IpvsConfig config) throws IOException {
        ensure(sysctls, VS_CONNTRACK, 1); // conntrack entries for IPVS connections: the masquerade rules need them
        ensure(sysctls, VS_EXPIRE_NODEST_CONN, 1); // a deleted real server's connections end at once
        ensure(sysctls, VS_EXPIRE_QUIESCENT_TEMPLATE, 1); // persistence ends with a weight-0 server
        ensure(sysctls, IP_FORWARD, 1);
        if (config.strictArp()) {
            // kube-ipvs0 carries the service addresses; no ARP answers for them
            ensure(sysctls, ARP_IGNORE, 1);
            ensure(sysctls, ARP_ANNOUNCE, 2);
        }
    }

    private static void ensure(Sysctls sysctls, String name, long value) throws IOException {
        var current = sysctls.read(name);
        if (current.isPresent() && current.getAsLong() == value) {
            return;
        }
        try {
            sysctls.write(name, value);
        } catch (KernelSettingException e) {
            throw e; // names the sysctl and why it could not be set
        } catch (IOException e) {
            throw new IOException("cannot set sysctl " + name + "=" + value + ": " + e.getMessage(), e);
        }
        LOG.info("set sysctl {}={}", name, value);
    }

    @Override
    public String mode() {
        return "ipvs";
    }

    IpFamily family() {
        return family;
    }

    /** Syncs that reported a failure so far. */
    long failedSyncs() {
        return failedSyncs.get();
    }

    @Override
    public SyncResult sync(ProxySnapshot snapshot) {
        Objects.requireNonNull(snapshot, "snapshot");
        SyncTimer timer = SyncTimer.start();
        boolean ok = false;
        try {
            SyncResult result = attempt(snapshot, timer);
            ok = result.ok();
            return result;
        } finally {
            if (!ok) { // failed, or threw (SyncGuard reports that)
                failedSyncs.incrementAndGet();
            }
        }
    }

    /**
     * Every step runs even when an earlier one failed (a missing address must not keep the other
     * services from working); each failure is collected, naming its object.
     */
    private SyncResult attempt(ProxySnapshot snapshot, SyncTimer timer) {
        if (table == null) {
            return timer.failure(true, family + " IPVS sync: IPVS is not available in this kernel");
        }
        List<String> errors = new ArrayList<>();
        int written = 0;
        boolean applyFailed = false;
        Set<InetAddress> onLink = Set.of();
        List<InetAddress> nodeAddresses = List.of();
        try {
            onLink = link.addresses(family);
            nodeAddresses = nodeAddresses(onLink);
        } catch (IOException | RuntimeException e) {
            errors.add("read node addresses: " + message(e));
        }
        List<InetAddress> nodePortAddresses = NodePortAddresses.of(family, config.network().nodePortAddresses(),
                snapshot.node()).servedAmong(family, nodeAddresses);
        ServicePortPlan.Planner planner = config.network().planner(family, snapshot.node());
        IpvsPlan plan = IpvsPlan.build(snapshot, planner,
                new IpvsSettings(config.scheduler(), nodePortAddresses, new HashSet<>(nodeAddresses)));
        errors.addAll(plan.problems());

        try {
            link.ensure();
            link.sync(family, plan.bindAddresses());
        } catch (IOException | RuntimeException e) {
            errors.add(DummyLink.NAME + " addresses: " + message(e));
        }

        Set<InetAddress> managed = new LinkedHashSet<>(onLink);
        managed.addAll(nodePortAddresses);
        IpvsSyncReport report = ipvsSync.apply(plan, managed);
        errors.addAll(report.errors());
        written += report.changes();
        if (report.draining() > 0) {
            LOG.info("{}: {} real servers draining at weight 0; deleted by a later sync once idle",
                    family, report.draining());
        }

        boolean rulesApplied = false;
        try {
            IpvsSets sets = ipsetWriter.write(snapshot, planner, nodeAddresses);
            written += IpvsRules.apply(runner, sets, planner.localTraffic(), ruleWriter).iptablesLines();
            rulesApplied = true;
        } catch (IOException | RuntimeException e) {
            errors.add("ipsets and iptables rules: " + message(e));
            applyFailed = true; // kubeproxy_sync_proxy_rules_iptables_restore_failures_total counts it
        }
        if (rulesApplied && !leftoversRemoved) {
            try {
                written += removeLeftovers();
            } catch (IOException | RuntimeException e) {
                errors.add("other proxy modes' chains: " + message(e));
                applyFailed |= e instanceof Iptables.RestoreException;
            }
        }
        if (!errors.isEmpty()) {
            String error = family + ": " + String.join("; ", errors);
            return applyFailed ? timer.applyFailure(true, error) : timer.failure(true, error);
        }
        return timer.success(true, written);
    }

    /**
     * The other modes' chains this mode does not write (see {@link IpvsRules#removeLeftovers}), once: after this
     * mode's own rules are in place, so that its nat KUBE-SERVICES no longer jumps to them. Retried by the next sync
     * when it fails.
     *
     * @return the rules and chains removed
     */
    private int removeLeftovers() throws IOException {
        CleanupPlan removed = IpvsRules.removeLeftovers(runner, family, config.otherModesChains());
        leftoversRemoved = true;
        if (removed.lines() > 0) {
            LOG.info("{}: removed what other proxy modes left in iptables ({} jumps and chains)", family,
                    removed.lines());
        }
        for (String problem : removed.problems()) {
            LOG.warn("{}: another proxy mode's chain is left in place: {}", family, problem);
        }
        return removed.lines();
    }

    /** Every node address of this family except kube-ipvs0's: upstream's GetAllLocalAddressesExcept(kube-ipvs0). */
    private List<InetAddress> nodeAddresses(Set<InetAddress> onLink) throws IOException {
        List<InetAddress> out = new ArrayList<>();
        for (InetAddress a : localAddresses.addresses()) {
            if (family.contains(a) && !onLink.contains(a)) {
                out.add(a);
            }
        }
        return out;
    }

    /**
     * As upstream's --cleanup (CleanupLeftovers in pkg/proxy/ipvs): flushes the IPVS table, every virtual server of
     * both families, NodePorts on the node's addresses, foreign ones and those in --ipvs-exclude-cidrs included
     * (no sync is left to serve them, and a fresh process cannot tell which it made); then deletes this family's
     * kube-ipvs0 addresses, the link once no family has any left, and this family's IPVS-mode chains and ipsets.
     */
    @Override
    public SyncResult cleanup() {
        SyncTimer timer = SyncTimer.start();
        List<String> errors = new ArrayList<>();
        Set<InetAddress> onLink = Set.of();
        try {
            onLink = link.addresses(family);
        } catch (IOException | RuntimeException e) {
            errors.add("read " + DummyLink.NAME + " addresses: " + message(e));
        }
        if (table != null) {
            try {
                table.flush();
            } catch (IOException | RuntimeException e) {
                errors.add("flush the IPVS table: " + message(e));
            }
        }
        try {
            if (!onLink.isEmpty()) {
                link.sync(family, Set.of());
            }
            if (link.addresses(family.other()).isEmpty()) {
                link.delete();
            }
        } catch (IOException | RuntimeException e) {
            errors.add(DummyLink.NAME + ": " + message(e));
        }
        try {
            errors.addAll(IpvsRules.cleanup(runner, family));
        } catch (IOException | RuntimeException e) {
            errors.add("chains and ipsets: " + message(e));
        }
        if (!errors.isEmpty()) {
            failedSyncs.incrementAndGet();
            return timer.failure(true, family + " IPVS cleanup: " + String.join("; ", errors));
        }
        return timer.success(true, 0);
    }

    @Override
    public void close() {
        closeQuietly(resources);
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.toString() : m;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing netlink sockets: {}", e.toString());
        }
    }

    @Override
    public String toString() {
        return "IpvsBackend[" + family + ", scheduler " + (config.scheduler().isEmpty() ? "rr" : config.scheduler())
                + ", excluded " + config.excludeCidrs() + "]";
    }
}
