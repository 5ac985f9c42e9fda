package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static dev.ferry.ipvs.Snapshots.ip;
import static dev.ferry.ipvs.Snapshots.snapshot;
import static dev.ferry.ipvs.Snapshots.tcp;
import static dev.ferry.ipvs.Snapshots.udp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpvsSyncTest {

    private static final VirtualServer WEB = VirtualServer.of(Protocol.TCP, ip("10.96.0.10"), 80, "rr");
    private static final VirtualServer DNS = VirtualServer.of(Protocol.UDP, ip("10.96.0.10"), 53, "rr")
            .withPersistence(10800);

    private final FakeTable table = new FakeTable();
    private final IpvsSync sync = new IpvsSync(table, List.of());

    private static IpvsPlan plan(ProxySnapshot snapshot) {
        return IpvsPlan.build(snapshot, IpFamily.IPV4, IpvsSettings.defaults());
    }

    private static IpvsPlan webAndDns(String... webEndpoints) {
        Snapshots.Svc web = tcp("ns/web", "10.96.0.10", 80);
        for (String ep : webEndpoints) {
            web.endpoint(ep, 8080);
        }
        return plan(snapshot(web, udp("ns/dns", "10.96.0.10", 53).affinity(10800).endpoint("10.244.1.5", 5353)));
    }

    private IpvsSyncReport apply(IpvsPlan plan) {
        table.writes.clear();
        return sync.apply(plan, Set.of());
    }

    @Test
    void firstSyncAddsEverythingAndASecondChangesNothing() {
        IpvsSyncReport first = apply(webAndDns("10.244.1.5", "10.244.2.6"));
        assertEquals(List.of("add service UDP 10.96.0.10:53", "add real server 10.244.1.5:5353 w1 of UDP 10.96.0.10:53",
                "add service TCP 10.96.0.10:80", "add real server 10.244.1.5:8080 w1 of TCP 10.96.0.10:80",
                "add real server 10.244.2.6:8080 w1 of TCP 10.96.0.10:80"), table.writes);
        assertEquals(new IpvsSyncReport(2, 0, 0, 3, 0, 0, 0, List.of()), first);
        assertEquals(DNS, table.services.get(ServiceKey.of(DNS)));

        IpvsSyncReport second = apply(webAndDns("10.244.1.5", "10.244.2.6"));
        assertEquals(List.of(), table.writes);
        assertEquals(0, second.changes());
        assertTrue(second.ok());
    }

    @Test
    void onlyWhatDiffersIsWritten() {
        apply(webAndDns("10.244.1.5", "10.244.2.6"));
        IpvsSyncReport r = apply(webAndDns("10.244.1.5", "10.244.3.7"));
        assertEquals(List.of("delete real server 10.244.2.6:8080 of TCP 10.96.0.10:80",
                "add real server 10.244.3.7:8080 w1 of TCP 10.96.0.10:80"), table.writes);
        assertEquals(new IpvsSyncReport(0, 0, 0, 1, 0, 1, 0, List.of()), r);

        // scheduler and affinity changes update the service in place, real servers stay
        IpvsPlan lc = IpvsPlan.build(snapshot(tcp("ns/web", "10.96.0.10", 80).affinity(60).endpoint("10.244.1.5", 8080)
                .endpoint("10.244.3.7", 8080)), IpFamily.IPV4, new IpvsSettings("lc", List.of(), Set.of()));
        table.writes.clear();
        sync.apply(lc, Set.of());
        assertEquals(List.of("update service TCP 10.96.0.10:80 lc 60", "delete service UDP 10.96.0.10:53"),
                table.writes);
    }

    @Test
    void aWeightChangedBehindOurBackIsSetBackToOne() throws Exception {
        apply(webAndDns("10.244.1.5"));
        table.updateRealServer(WEB, RealServer.of(ip("10.244.1.5"), 8080, 5));
        apply(webAndDns("10.244.1.5"));
        assertEquals(List.of("update real server 10.244.1.5:8080 w1 of TCP 10.96.0.10:80"), table.writes);
    }

    @Test
    void aRemovedTcpServerWithConnectionsDrainsAtWeightZeroUntilItHasNone() {
        apply(webAndDns("10.244.1.5", "10.244.2.6"));
        table.connections(WEB, "10.244.2.6", 8080, 1, 0);

        IpvsSyncReport removed = apply(webAndDns("10.244.1.5"));
        assertEquals(List.of("update real server 10.244.2.6:8080 w0 of TCP 10.96.0.10:80"), table.writes);
        assertEquals(1, removed.draining());
        assertEquals(0, table.dest(WEB, "10.244.2.6", 8080).weight());

        IpvsSyncReport still = apply(webAndDns("10.244.1.5"));
        assertEquals(List.of(), table.writes, "a draining server is left alone while it has connections");
        assertEquals(1, still.draining());

        table.connections(WEB, "10.244.2.6", 8080, 0, 1); // closed, lingering: inactive counts too
        assertEquals(1, apply(webAndDns("10.244.1.5")).draining());
        assertEquals(List.of(), table.writes);

        table.connections(WEB, "10.244.2.6", 8080, 0, 0);
        IpvsSyncReport gone = apply(webAndDns("10.244.1.5"));
        assertEquals(List.of("delete real server 10.244.2.6:8080 of TCP 10.96.0.10:80"), table.writes);
        assertEquals(0, gone.draining());
        assertNull(table.dest(WEB, "10.244.2.6", 8080));
    }

    @Test
    void aDrainingServerThatComesBackIsRestoredToWeightOne() {
        apply(webAndDns("10.244.1.5", "10.244.2.6"));
        table.connections(WEB, "10.244.2.6", 8080, 3, 2);
        apply(webAndDns("10.244.1.5"));
        IpvsSyncReport back = apply(webAndDns("10.244.1.5", "10.244.2.6"));
        assertEquals(List.of("update real server 10.244.2.6:8080 w1 of TCP 10.96.0.10:80"), table.writes);
        assertEquals(0, back.draining());
        assertEquals(1, table.dest(WEB, "10.244.2.6", 8080).weight());
        assertEquals(3, table.dest(WEB, "10.244.2.6", 8080).activeConnections(), "the same server, not a new one");
    }

    @Test
    void aRemovedUdpServerGoesAtOnceEvenWithConnections() {
        apply(webAndDns("10.244.1.5"));
        table.connections(DNS, "10.244.1.5", 5353, 0, 4);
        IpvsSyncReport r = apply(plan(snapshot(tcp("ns/web", "10.96.0.10", 80).endpoint("10.244.1.5", 8080),
                udp("ns/dns", "10.96.0.10", 53).affinity(10800))));
        assertEquals(List.of("delete real server 10.244.1.5:5353 of UDP 10.96.0.10:53"), table.writes);
        assertEquals(0, r.draining());
    }

    @Test
    void staleServicesAreDeletedOnlyWhenOursAndForeignOnesAreUntouched() throws Exception {
        FakeTable t = new FakeTable();
        VirtualServer foreign = VirtualServer.of(Protocol.TCP, ip("172.16.0.1"), 80, "wrr");
        VirtualServer staleOnKubeIpvs0 = VirtualServer.of(Protocol.TCP, ip("10.96.0.99"), 80, "rr");
        VirtualServer excluded = VirtualServer.of(Protocol.TCP, ip("10.200.0.1"), 80, "rr");
        VirtualServer otherFamily = VirtualServer.of(Protocol.TCP, ip("fd00::99"), 80, "rr");
        for (VirtualServer vs : List.of(foreign, staleOnKubeIpvs0, excluded, otherFamily)) {
            t.addService(vs);
        }
        t.addRealServer(foreign, RealServer.of(ip("172.16.1.1"), 80, 3));
        IpvsSync s = new IpvsSync(t, List.of(Cidr.parse("10.200.0.0/16")));
        t.writes.clear();

        IpvsSyncReport r = s.apply(webAndDns(), Set.of(ip("10.96.0.99"), ip("10.200.0.1"), ip("fd00::99")));
        assertEquals(List.of("add service UDP 10.96.0.10:53", "add real server 10.244.1.5:5353 w1 of UDP 10.96.0.10:53",
                "add service TCP 10.96.0.10:80", "delete service TCP 10.96.0.99:80"), t.writes);
        assertEquals(1, r.servicesDeleted());
        assertTrue(t.services.containsKey(ServiceKey.of(foreign)));
        assertEquals(3, t.dest(foreign, "172.16.1.1", 80).weight());

        // a service an earlier apply planned is still ours after its address left every managed set
        t.writes.clear();
        s.apply(plan(snapshot(udp("ns/dns", "10.96.0.10", 53).affinity(10800).endpoint("10.244.1.5", 5353),
                tcp("ns/web", "10.96.0.10", 80).externalIP("203.0.113.5"))), Set.of());
        t.writes.clear();
        s.apply(webAndDns(), Set.of());
        assertEquals(List.of("delete service TCP 203.0.113.5:80"), t.writes);
    }

    @Test
    void aFailureIsReportedNamingTheServiceAndTheRestOfTheSyncGoesOn() {
        table.failOn("add service UDP 10.96.0.10:53");
        table.failOn("add real server 10.244.1.5:8080 w1 of TCP 10.96.0.10:80");
        IpvsSyncReport r = apply(webAndDns("10.244.1.5", "10.244.2.6"));
        assertFalse(r.ok());
        assertEquals(List.of("ns/dns:p UDP 10.96.0.10:53: add service UDP 10.96.0.10:53: Cannot allocate memory"
                        + " (ENOMEM, errno 12)",
                "ns/web:p TCP 10.96.0.10:80: add real server 10.244.1.5:8080 w1 of TCP 10.96.0.10:80: Cannot allocate"
                        + " memory (ENOMEM, errno 12)"), r.errors());
        assertEquals(List.of("add service TCP 10.96.0.10:80", "add real server 10.244.2.6:8080 w1 of TCP 10.96.0.10:80"),
                table.writes);

        table.failing.clear();
        IpvsSyncReport retry = apply(webAndDns("10.244.1.5", "10.244.2.6"));
        assertTrue(retry.ok(), retry::toString);
        assertEquals(List.of("add service UDP 10.96.0.10:53", "add real server 10.244.1.5:5353 w1 of UDP 10.96.0.10:53",
                "add real server 10.244.1.5:8080 w1 of TCP 10.96.0.10:80"), table.writes);
    }

    @Test
    void aTableThatCannotBeListedChangesNothing() {
        table.failListing = true;
        IpvsSyncReport r = apply(webAndDns("10.244.1.5"));
        assertEquals(List.of("list IPVS services: Operation not permitted (EPERM, errno 1)"), r.errors());
        assertEquals(List.of(), table.writes);
    }

    @Test
    void nothingThrowsOutOfASync() {
        IpvsTable broken = new FakeTable() {
            @Override
            public List<VirtualServer> services() {
                throw new IllegalStateException("decoder bug");
            }
        };
        IpvsSyncReport r = new IpvsSync(broken, List.of()).apply(webAndDns(), Set.of());
        assertFalse(r.ok());
        assertTrue(r.errors().get(0).contains("decoder bug"), r::toString);
    }
}
