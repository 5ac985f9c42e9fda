package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTrafficDetection;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncGuard;
import dev.ferry.core.SyncResult;
import dev.ferry.ipvs.netlink.IpvsTimeouts;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import dev.ferry.nativeio.rtnetlink.AddressChanges;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.netfilter.NetworkSettings;
import dev.ferry.netfilter.Sysctls;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backend's orchestration with fakes: the table, the link and the commands; the kernel parts are ITs. */
class IpvsBackendTest {

    private static final InetAddress NODE_IP = IpAddresses.parse("192.168.50.1");

    /** A map-backed IPVS table; {@code failing} names operations that throw. */
    static class Table implements IpvsTable {
        final Map<VirtualServer, Map<String, RealServer>> services = new LinkedHashMap<>();
        RuntimeException listFailure;
        IOException addFailure;

        @Override
        public List<VirtualServer> services() {
            if (listFailure != null) {
                throw listFailure;
            }
            return List.copyOf(services.keySet());
        }

        @Override
        public List<RealServer> realServers(VirtualServer vs) {
            return List.copyOf(services.get(find(vs)).values());
        }

        @Override
        public void addService(VirtualServer vs) throws IOException {
            if (addFailure != null) {
                throw addFailure;
            }
            services.put(vs, new LinkedHashMap<>());
        }

        @Override
        public void updateService(VirtualServer vs) {
            Map<String, RealServer> rs = services.remove(find(vs));
            services.put(vs, rs);
        }

        @Override
        public void deleteService(VirtualServer vs) {
            services.remove(find(vs));
        }

        @Override
        public void addRealServer(VirtualServer vs, RealServer rs) {
            services.get(find(vs)).put(key(rs), rs);
        }

        @Override
        public void updateRealServer(VirtualServer vs, RealServer rs) {
            services.get(find(vs)).put(key(rs), rs);
        }

        @Override
        public void deleteRealServer(VirtualServer vs, RealServer rs) {
            services.get(find(vs)).remove(key(rs));
        }

        private VirtualServer find(VirtualServer vs) {
            return services.keySet().stream().filter(k -> k.protocol() == vs.protocol()
                    && k.address().equals(vs.address()) && k.port() == vs.port()).findFirst().orElseThrow();
        }

        private static String key(RealServer rs) {
            return IpAddresses.hostPort(rs.address(), rs.port());
        }

        List<String> view() {
            List<String> out = new ArrayList<>();
            services.forEach((vs, rs) -> out.add(vs.protocol() + " " + IpAddresses.hostPort(vs.address(), vs.port())
                    + " " + vs.scheduler() + " -> " + rs.keySet()));
            return out;
        }
    }

    /** kube-ipvs0 as a set of addresses; absent until ensured. */
    static final class Link implements DummyLink {
        boolean exists;
        final Set<InetAddress> addresses = new LinkedHashSet<>();
        IOException syncFailure;

        @Override
        public void ensure() {
            exists = true;
        }

        @Override
        public Set<InetAddress> addresses(IpFamily family) {
            Set<InetAddress> out = new LinkedHashSet<>();
            addresses.stream().filter(family::contains).forEach(out::add);
            return out;
        }

        @Override
        public AddressChanges sync(IpFamily family, Set<InetAddress> wanted) throws IOException {
            if (syncFailure != null) {
                throw syncFailure;
            }
            if (!exists) {
                throw new IOException("kube-ipvs0 does not exist");
            }
            addresses.removeIf(family::contains);
            addresses.addAll(wanted);
            return new AddressChanges(wanted, Set.of());
        }

        @Override
        public boolean delete() {
            boolean was = exists;
            exists = false;
            addresses.clear();
            return was;
        }
    }

    /** Records commands; those matching {@code fails} exit 1. */
    static final class Commands implements CommandRunner {
        final List<List<String>> calls = new ArrayList<>();
        final List<String> inputs = new ArrayList<>();
        Predicate<List<String>> fails = argv -> false;

        @Override
        public Result run(List<String> argv, byte[] stdin) {
            calls.add(List.copyOf(argv));
            inputs.add(stdin == null ? "" : new String(stdin, java.nio.charset.StandardCharsets.UTF_8));
            return fails.test(argv) ? new Result(1, "", argv.get(0) + ": refused") : new Result(0, "", "");
        }

        boolean ran(String... prefix) {
            return calls.stream().anyMatch(c -> c.size() >= prefix.length
                    && c.subList(0, prefix.length).equals(List.of(prefix)));
        }
    }

    private final Table table = new Table();
    private final Link link = new Link();
    private final Commands commands = new Commands();

    private IpvsBackend backend(IpvsConfig config) {
        return new IpvsBackend(IpFamily.IPV4, config, table, link, commands,
                LocalAddresses.of(List.of(NODE_IP, IpAddresses.parse("127.0.0.1"))), () -> { });
    }

    private IpvsBackend backend() {
        return backend(IpvsConfig.defaults(NetworkSettings.defaults()));
    }

    private static ProxySnapshot oneService() {
        return Snapshots.snapshot(Snapshots.tcp("ns/web", "10.96.0.10", 80).nodePort(30080)
                .endpoint("10.244.1.5", 8080).endpoint("10.244.2.6", 8080));
    }

    @Test
    void aSyncBindsTheClusterIpProgramsIpvsAndAppliesSetsAndRules() {
        SyncResult r = backend().sync(oneService());

        assertTrue(r.ok(), r.error());
        assertEquals(Set.of(IpAddresses.parse("10.96.0.10")), link.addresses);
        assertEquals(List.of(
                "TCP 10.96.0.10:80 rr -> [10.244.1.5:8080, 10.244.2.6:8080]",
                "TCP 192.168.50.1:30080 rr -> [10.244.1.5:8080, 10.244.2.6:8080]"), table.view());
        assertTrue(commands.ran("ipset", "restore"));
        assertTrue(commands.ran("iptables-restore", "-w", "5", "-W", "100000", "--noflush", "--counters"));
        assertTrue(r.rulesWritten() > 4, "IPVS changes and iptables lines are counted: " + r.rulesWritten());
    }

    @Test
    void nodeCidrDetectionTakesThePodCidrOfTheSnapshotsNode() {
        IpvsConfig config = IpvsConfig.defaults(NetworkSettings.defaults().withLocalTraffic(LocalTrafficDetection.nodeCidr()));
        ProxySnapshot base = oneService();
        ProxySnapshot withPodCidrs = new ProxySnapshot(2, new NodeInfo("node-a", Map.of(), List.of(NODE_IP),
                List.of(Cidr.parse("fd00:244:1::/64"), Cidr.parse("10.244.1.0/24"))),
                base.servicePortMap(), Set.of(), true);
        assertTrue(backend(config).sync(withPodCidrs).ok());
        String restore = commands.inputs.get(commands.calls.indexOf(commands.calls.stream()
                .filter(c -> c.get(0).equals("iptables-restore")).findFirst().orElseThrow()));
        assertTrue(restore.contains("--match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.1.0/24 -j KUBE-MARK-MASQ\n"), restore);
    }

    @Test
    void theSchedulerFlagReachesEveryVirtualServer() {
        IpvsConfig config = new IpvsConfig(NetworkSettings.defaults(), "lc", List.of(), false, IpvsTimeouts.ofSeconds(0, 0, 0));
        assertTrue(backend(config).sync(oneService()).ok());
        assertTrue(table.view().stream().allMatch(line -> line.contains(" lc -> ")), table.view().toString());
    }

    @Test
    void aSecondSyncOfTheSameSnapshotChangesNoIpvsEntry() {
        IpvsBackend b = backend();
        b.sync(oneService());
        List<String> before = table.view();
        SyncResult again = b.sync(oneService());
        assertTrue(again.ok(), again.error());
        assertEquals(before, table.view());
    }

    @Test
    void aRemovedServiceLosesItsVirtualServersAndItsAddress() {
        IpvsBackend b = backend();
        b.sync(oneService());
        SyncResult r = b.sync(Snapshots.snapshot(Snapshots.tcp("ns/other", "10.96.0.20", 53)));
        assertTrue(r.ok(), r.error());
        assertEquals(List.of("TCP 10.96.0.20:53 rr -> []"), table.view());
        assertEquals(Set.of(IpAddresses.parse("10.96.0.20")), link.addresses);
    }

    @Test
    void aLinkFailureIsReportedButIpvsAndRulesAreStillSynced() {
        link.exists = true;
        link.syncFailure = new IOException("add 10.96.0.10/32 to kube-ipvs0: Operation not permitted");
        SyncResult r = backend().sync(oneService());
        assertFalse(r.ok());
        assertTrue(r.error().contains("kube-ipvs0 addresses: add 10.96.0.10/32"), r.error());
        assertEquals(2, table.services.size());
        assertTrue(commands.ran("iptables-restore", "-w", "5", "-W", "100000", "--noflush", "--counters"));
    }

    @Test
    void aFailedIpsetRestoreIsReportedAndTheTableStaysProgrammed() {
        commands.fails = argv -> argv.get(0).equals("ipset");
        SyncResult r = backend().sync(oneService());
        assertFalse(r.ok());
        assertTrue(r.error().contains("ipsets and iptables rules: ipset restore exited 1"), r.error());
        assertTrue(r.applyFailed(), "counted as a restore failure");
        assertEquals(2, table.services.size());
    }

    @Test
    void anExceptionFromTheKernelNeverEscapesASync() {
        table.listFailure = new IllegalStateException("netlink socket closed");
        IpvsBackend b = backend();
        SyncResult r = SyncGuard.sync(b, oneService());
        assertFalse(r.ok());
        assertTrue(r.error().contains("netlink socket closed"), r.error());
        assertFalse(r.applyFailed(), "a kernel error is not a restore failure");
        assertEquals(1, b.failedSyncs());
    }

    /**
     * As upstream's --cleanup (ipvs.Flush() in CleanupLeftovers): every virtual server goes, NodePorts on the node's
     * addresses, foreign ones and those in --ipvs-exclude-cidrs too, even from a fresh process that never synced.
     */
    @Test
    void cleanupFlushesTheWholeIpvsTableTheLinkAndOurSetsAndChains() throws IOException {
        IpvsConfig config = new IpvsConfig(NetworkSettings.defaults(), "", List.of(Cidr.parse("10.96.9.0/24")), false,
                IpvsTimeouts.ofSeconds(0, 0, 0));
        assertTrue(backend(config).sync(oneService()).ok());
        table.addService(VirtualServer.of(Protocol.TCP, IpAddresses.parse("172.17.0.1"), 80, "wrr"));
        table.addService(VirtualServer.of(Protocol.TCP, IpAddresses.parse("10.96.9.9"), 80, "rr"));
        table.addService(VirtualServer.of(Protocol.UDP, IpAddresses.parse("fd00::53"), 53, "rr"));
        link.addresses.add(IpAddresses.parse("10.96.9.9"));
        assertEquals(5, table.services.size(), table.view().toString());

        SyncResult r = backend(config).cleanup(); // a fresh process: --cleanup

        assertTrue(r.ok(), r.error());
        assertEquals(List.of(), table.view());
        assertFalse(link.exists);
        assertTrue(commands.ran("ipset", "destroy", "KUBE-CLUSTER-IP"));
        assertTrue(commands.ran("iptables", "-w", "5", "-W", "100000", "-t", "nat", "-X", "KUBE-SERVICES"));
    }

    /** Where the first command starting with {@code prefix} is in the calls, or -1. */
    private int indexOf(String... prefix) {
        for (int i = 0; i < commands.calls.size(); i++) {
            List<String> c = commands.calls.get(i);
            if (c.size() >= prefix.length && c.subList(0, prefix.length).equals(List.of(prefix))) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void theFirstSyncRemovesTheOtherModesChainsAfterItsOwnRulesOnceAndRetriesAFailure() {
        IpvsBackend b = backend(IpvsConfig.defaults(NetworkSettings.defaults())
                .withOtherModesChains(chain -> chain.startsWith("KUBE-SVC-")));
        commands.fails = argv -> argv.equals(List.of("iptables-save", "-t", "mangle"));

        SyncResult first = b.sync(oneService());

        assertFalse(first.ok());
        assertTrue(first.error().contains("other proxy modes' chains: iptables-save -t mangle exited 1"), first.error());
        assertFalse(first.applyFailed(), "reading the tables failed, no restore");
        int own = indexOf("iptables-restore");
        assertTrue(own >= 0 && own < indexOf("iptables-save", "-t", "nat"),
                "read after its own rules are in place: " + commands.calls);
        assertEquals(2, table.services.size(), "the IPVS table is programmed all the same");

        commands.fails = argv -> false;
        commands.calls.clear();
        assertTrue(b.sync(oneService()).ok());
        assertTrue(commands.ran("iptables-save", "-t", "mangle"), "retried by the next sync");
        commands.calls.clear();
        assertTrue(b.sync(oneService()).ok());
        assertFalse(commands.ran("iptables-save"), "once done, never again");
    }

    @Test
    void cleanupKeepsTheLinkWhileTheOtherFamilyStillHasAddresses() {
        link.exists = true;
        link.addresses.add(IpAddresses.parse("10.96.0.10"));
        link.addresses.add(IpAddresses.parse("fd00::10"));
        assertTrue(backend().cleanup().ok());
        assertTrue(link.exists);
        assertEquals(Set.of(IpAddresses.parse("fd00::10")), link.addresses);
    }

    @Test
    void cleanupWithoutIpvsInTheKernelStillRemovesSetsChainsAndTheLink() {
        link.exists = true;
        IpvsBackend b = new IpvsBackend(IpFamily.IPV4, IpvsConfig.defaults(NetworkSettings.defaults()), null, link,
                commands, LocalAddresses.of(List.of()), () -> { });
        assertTrue(b.cleanup().ok());
        assertFalse(link.exists);
        assertTrue(commands.ran("ipset", "destroy", "KUBE-LOOP-BACK"));
        SyncResult sync = b.sync(oneService());
        assertFalse(sync.ok());
        assertTrue(sync.error().contains("IPVS is not available"), sync.error());
    }

    /** /proc/sys as a map. */
    static final class FakeSysctls implements Sysctls {
        final Map<String, Long> values = new HashMap<>();
        final List<String> writes = new ArrayList<>();

        @Override
        public OptionalLong read(String name) {
            Long v = values.get(name);
            return v == null ? OptionalLong.empty() : OptionalLong.of(v);
        }

        @Override
        public void write(String name, long value) throws IOException {
            if (!values.containsKey(name)) {
                throw new IOException("no such setting");
            }
            values.put(name, value);
            writes.add(name + "=" + value);
        }
    }

    @Test
    void startUpSetsUpstreamsSysctlsOnlyWhereTheyDiffer() throws IOException {
        FakeSysctls s = new FakeSysctls();
        s.values.putAll(Map.of(IpvsBackend.VS_CONNTRACK, 0L, IpvsBackend.VS_EXPIRE_NODEST_CONN, 0L,
                IpvsBackend.VS_EXPIRE_QUIESCENT_TEMPLATE, 0L, IpvsBackend.IP_FORWARD, 1L,
                IpvsBackend.ARP_IGNORE, 0L, IpvsBackend.ARP_ANNOUNCE, 0L));
        IpvsBackend.prepareKernel(s, IpvsConfig.defaults(NetworkSettings.defaults()));
        assertEquals(List.of("net/ipv4/vs/conntrack=1", "net/ipv4/vs/expire_nodest_conn=1",
                "net/ipv4/vs/expire_quiescent_template=1"), s.writes);

        IpvsBackend.prepareKernel(s, new IpvsConfig(NetworkSettings.defaults(), "", List.of(), true,
                IpvsTimeouts.ofSeconds(0, 0, 0)));
        assertEquals(List.of("net/ipv4/vs/conntrack=1", "net/ipv4/vs/expire_nodest_conn=1",
                "net/ipv4/vs/expire_quiescent_template=1", "net/ipv4/conf/all/arp_ignore=1",
                "net/ipv4/conf/all/arp_announce=2"), s.writes);
    }

    @Test
    void startUpFailsNamingTheSysctlWhenIpvsSettingsAreMissing() {
        FakeSysctls s = new FakeSysctls(); // no ip_vs module: net/ipv4/vs/* do not exist
        IOException e = assertThrows(IOException.class,
                () -> IpvsBackend.prepareKernel(s, IpvsConfig.defaults(NetworkSettings.defaults())));
        assertTrue(e.getMessage().contains("net/ipv4/vs/conntrack=1"), e.getMessage());
    }

    @Test
    void theSchedulerProbeAddsAndDeletesUpstreamsDummyServer() throws IOException {
        List<String> ops = new ArrayList<>();
        Table recording = new Table() {
            @Override
            public void addService(VirtualServer vs) throws IOException {
                ops.add("add " + IpAddresses.hostPort(vs.address(), vs.port()) + " " + vs.scheduler());
                super.addService(vs);
            }

            @Override
            public void deleteService(VirtualServer vs) {
                ops.add("delete " + IpAddresses.hostPort(vs.address(), vs.port()));
                super.deleteService(vs);
            }
        };
        IpvsBackend.probeScheduler(recording, "");
        assertEquals(List.of("add 0.0.0.0:20000 rr", "delete 0.0.0.0:20000"), ops);
        assertTrue(recording.services.isEmpty());
    }

    @Test
    void aMissingSchedulerModuleFailsTheProbeNamingIt() {
        table.addFailure = new IOException("add virtual server TCP 0.0.0.0:20000: No such file or directory (ENOENT)");
        IOException e = assertThrows(IOException.class, () -> IpvsBackend.probeScheduler(table, "mh"));
        assertTrue(e.getMessage().contains("\"mh\" is not usable (is the ip_vs_mh module loaded?)"), e.getMessage());
        assertTrue(table.services.isEmpty());
    }

    @Test
    void aForeignServiceOnTheProbeAddressIsLeftAlone() throws IOException {
        VirtualServer foreign = VirtualServer.of(Protocol.TCP, IpAddresses.parse("0.0.0.0"), 20000, "wlc");
        table.addService(foreign);
        IpvsBackend.probeScheduler(table, "rr");
        assertEquals(List.of("TCP 0.0.0.0:20000 wlc -> []"), table.view());
    }

    @Test
    void aBadSchedulerNameFailsAtConstruction() {
        IpvsConfig config = new IpvsConfig(NetworkSettings.defaults(), "a-much-too-long-name", List.of(), false,
                IpvsTimeouts.ofSeconds(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> backend(config));
    }
}
