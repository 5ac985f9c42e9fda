package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.ipvs.netlink.IpvsClient;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static dev.ferry.ipvs.Snapshots.ip;
import static dev.ferry.ipvs.Snapshots.snapshot;
import static dev.ferry.ipvs.Snapshots.tcp;
import static dev.ferry.ipvs.Snapshots.udp;
import static dev.ferry.ipvs.uml.GuestCheck.check;
import static dev.ferry.ipvs.uml.GuestCheck.equal;
import static dev.ferry.ipvs.uml.GuestCheck.fail;
import static dev.ferry.ipvs.uml.GuestCheck.ok;
import static dev.ferry.ipvs.uml.GuestCheck.run;

/**
 * Runs inside a {@link dev.ferry.ipvs.uml.UmlGuest} (see {@link IpvsSyncIT}): applies plans to the guest's real IPVS
 * and checks with ipvsadm. kube-ipvs0 carries the ClusterIP, the endpoints are extra addresses on lo, so a
 * connection from the guest to the ClusterIP is masqueraded by IPVS to a real server in this same guest. Prints
 * "ok NAME" per passed check; the first failure prints "FAILED ..." and exits 1.
 */
public final class IpvsSyncGuestChecks {

    private static final Set<InetAddress> MANAGED = Set.of(ip("10.96.0.10"), ip("10.96.0.99"), ip("192.168.50.1"));
    private static final IpvsSettings SETTINGS = new IpvsSettings("lc", List.of(ip("192.168.50.1")), Set.of());
    private static final VirtualServer WEB = VirtualServer.of(Protocol.TCP, ip("10.96.0.10"), 80, "lc");
    private static final VirtualServer DNS = VirtualServer.of(Protocol.UDP, ip("10.96.0.10"), 53, "lc")
            .withPersistence(10800);
    private static final String FOREIGN = "TCP 172.16.0.1:80 wrr";
    private static final Set<String> FOREIGN_RS = Set.of("-> 172.16.1.1:80 Masq 3 0 0");

    public static void main(String[] args) throws Exception {
        run("ip", "link", "add", "kube-ipvs0", "type", "dummy");
        run("ip", "addr", "add", "10.96.0.10/32", "dev", "kube-ipvs0");
        run("ip", "addr", "add", "10.96.0.99/32", "dev", "kube-ipvs0");
        run("ip", "link", "set", "kube-ipvs0", "up");
        run("ip", "addr", "add", "10.244.1.5/32", "dev", "lo");
        run("ip", "addr", "add", "10.244.2.6/32", "dev", "lo");
        run("ipvsadm", "-A", "-t", "172.16.0.1:80", "-s", "wrr");
        run("ipvsadm", "-a", "-t", "172.16.0.1:80", "-r", "172.16.1.1:80", "-m", "-w", "3");
        run("ipvsadm", "-A", "-t", "10.96.0.99:80", "-s", "rr"); // stale, on kube-ipvs0: ours to delete

        try (IpvsClient client = IpvsClient.open()) {
            IpvsSync sync = new IpvsSync(new ClientTable(client), List.of());
            firstApply(sync);
            secondApplyChangesNothing(sync);
            List<String> web = drainWithAnOpenConnection(sync, client);
            udpGoesAtOnce(sync, client, web);
            familiesStayApart(sync, new IpvsSync(new ClientTable(client), List.of()), web);
        }
    }

    private static IpvsPlan plan(List<String> webEndpoints, List<String> dnsEndpoints) {
        Snapshots.Svc web = tcp("ns/web", "10.96.0.10", 80).nodePort(30080);
        webEndpoints.forEach(ep -> web.endpoint(ep, 8080));
        Snapshots.Svc dns = udp("ns/dns", "10.96.0.10", 53).affinity(10800);
        dnsEndpoints.forEach(ep -> dns.endpoint(ep, 5353));
        return IpvsPlan.build(snapshot(web, dns), IpFamily.IPV4, SETTINGS);
    }

    private static final List<String> BOTH = List.of("10.244.1.5", "10.244.2.6");

    private static void firstApply(IpvsSync sync) throws Exception {
        IpvsSyncReport r = sync.apply(plan(BOTH, BOTH), MANAGED);
        check("first-apply", r.ok() && r.servicesAdded() == 3 && r.servicesDeleted() == 1 && r.realServersAdded() == 6,
                r.toString());
        Map<String, Set<String>> expected = new TreeMap<>();
        expected.put("TCP 10.96.0.10:80 lc", Set.of("-> 10.244.1.5:8080 Masq 1 0 0", "-> 10.244.2.6:8080 Masq 1 0 0"));
        expected.put("TCP 192.168.50.1:30080 lc",
                Set.of("-> 10.244.1.5:8080 Masq 1 0 0", "-> 10.244.2.6:8080 Masq 1 0 0"));
        expected.put("UDP 10.96.0.10:53 lc persistent 10800",
                Set.of("-> 10.244.1.5:5353 Masq 1 0 0", "-> 10.244.2.6:5353 Masq 1 0 0"));
        expected.put(FOREIGN, FOREIGN_RS);
        equal("first-apply (ipvsadm -Ln)", expected, listing());
        ok("first-apply");
    }

    private static void secondApplyChangesNothing(IpvsSync sync) throws Exception {
        Map<String, Set<String>> before = listing();
        IpvsSyncReport r = sync.apply(plan(BOTH, BOTH), MANAGED);
        check("second-apply-changes-nothing", r.ok() && r.changes() == 0, r.toString());
        equal("second-apply-changes-nothing (ipvsadm -Ln)", before, listing());
        ok("second-apply-changes-nothing");
    }

    /**
     * A real server removed while a TCP connection to it is open stays at weight 0 (the connection keeps working)
     * until the connection is gone; the client ends it with a reset, so IPVS's entry moves to CLOSE (10 s) instead
     * of TIME_WAIT (2 min), and a later apply deletes the server.
     */
    private static List<String> drainWithAnOpenConnection(IpvsSync sync, IpvsClient client) throws Exception {
        List<String> rest = new ArrayList<>(BOTH);
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(ip("0.0.0.0"), 8080));
            Socket c = new Socket(ip("10.96.0.10"), 80);
            try (Socket accepted = server.accept()) {
                String chosen = accepted.getLocalAddress().getHostAddress();
                check("drain (chosen endpoint)", rest.remove(chosen), "accepted on " + chosen);
                await(client, WEB, chosen, rs -> rs.activeConnections() == 1, "active connection counted");

                IpvsSyncReport removed = sync.apply(plan(rest, BOTH), MANAGED);
                check("drain (weight 0)", removed.ok() && removed.draining() == 1, removed.toString());
                String line = "-> " + chosen + ":8080 Masq 0 1 0";
                check("drain (weight 0, ipvsadm)", listing().get("TCP 10.96.0.10:80 lc").contains(line),
                        "no \"" + line + "\" in " + listing());
                IpvsSyncReport again = sync.apply(plan(rest, BOTH), MANAGED);
                check("drain (kept while connected)", again.ok() && again.changes() == 0 && again.draining() == 1,
                        again.toString());

                // the draining connection still carries data both ways
                c.getOutputStream().write('x');
                check("drain (still connected)", accepted.getInputStream().read() == 'x', "no byte through");
                accepted.getOutputStream().write('y');
                check("drain (still connected, reply)", c.getInputStream().read() == 'y', "no reply byte");

                c.setSoLinger(true, 0);
                c.close(); // RST
            }
            long reset = System.nanoTime();
            long deadline = reset + TimeUnit.SECONDS.toNanos(60);
            for (int applies = 1; ; applies++) {
                IpvsSyncReport r = sync.apply(plan(rest, BOTH), MANAGED);
                check("drain (later apply)", r.ok(), r.toString());
                Set<String> servers = listing().get("TCP 10.96.0.10:80 lc");
                if (r.draining() == 0) {
                    check("drain (removed)", servers.size() == 1 && servers.iterator().next().contains(":8080 Masq 1 "),
                            servers.toString());
                    System.out.println("drain: deleted by apply " + applies + ", "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - reset) + " ms after the reset");
                    break;
                }
                check("drain (weight 0 until removed)", servers.stream().anyMatch(s -> s.contains(":8080 Masq 0 ")),
                        servers.toString());
                if (System.nanoTime() > deadline) {
                    fail("drain: the real server still has connections after 60 s: " + servers);
                }
                Thread.sleep(200); // poll interval, bounded by the deadline above
            }
        }
        ok("drain-with-an-open-connection");
        return rest;
    }

    /** A UDP real server with a flow through it is deleted by the first apply that no longer wants it. */
    private static void udpGoesAtOnce(IpvsSync sync, IpvsClient client, List<String> web) throws Exception {
        try (DatagramSocket socket = new DatagramSocket()) {
            byte[] query = "q".getBytes(StandardCharsets.US_ASCII);
            socket.send(new DatagramPacket(query, query.length, ip("10.96.0.10"), 53));
        }
        String used = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (used == null) {
            for (RealServer rs : client.realServers(DNS)) {
                if (rs.activeConnections() + rs.inactiveConnections() > 0) {
                    used = rs.address().getHostAddress();
                }
            }
            if (used == null && System.nanoTime() > deadline) {
                fail("udp: no real server of " + DNS + " counts the flow: " + client.realServers(DNS));
            }
            Thread.onSpinWait();
        }
        List<String> rest = new ArrayList<>(BOTH);
        rest.remove(used);
        IpvsSyncReport r = sync.apply(plan(web, rest), MANAGED);
        check("udp-goes-at-once", r.ok() && r.draining() == 0 && r.realServersDeleted() == 1, r.toString());
        Set<String> servers = listing().get("UDP 10.96.0.10:53 lc persistent 10800");
        check("udp-goes-at-once (ipvsadm)", servers.size() == 1 && servers.iterator().next().startsWith("-> "
                + rest.get(0) + ":5353 Masq 1 "), servers.toString());
        equal("foreign-untouched", FOREIGN_RS, listing().get(FOREIGN));
        ok("udp-goes-at-once");
        ok("foreign-untouched");
    }

    /** An IPv6 plan touches only IPv6 services, an IPv4 plan only IPv4 ones (one IpvsSync per family). */
    private static void familiesStayApart(IpvsSync v4, IpvsSync v6, List<String> web) throws Exception {
        Map<String, Set<String>> before = listing();
        IpvsPlan plan6 = IpvsPlan.build(snapshot(tcp("ns/web6", "fd00::10", 80).endpoint("fd00:1::5", 8080)
                .endpoint("10.244.1.5", 8080)), IpFamily.IPV6, SETTINGS);
        IpvsSyncReport r6 = v6.apply(plan6, Set.of(ip("fd00::10")));
        check("families-stay-apart (v6)", r6.ok() && r6.changes() == 2 && r6.servicesDeleted() == 0, r6.toString());
        Map<String, Set<String>> expected = new TreeMap<>(before);
        expected.put("TCP [fd00::10]:80 lc", Set.of("-> [fd00:1::5]:8080 Masq 1 0 0"));
        equal("families-stay-apart (ipvsadm after the v6 apply)", expected, listing());
        IpvsSyncReport r4 = v4.apply(plan(web, List.of("10.244.1.5")), MANAGED);
        check("families-stay-apart (v4)", r4.ok() && r4.servicesDeleted() == 0, r4.toString());
        check("families-stay-apart (v6 kept)", listing().containsKey("TCP [fd00::10]:80 lc"), listing().toString());
        ok("families-stay-apart");
    }

    private static void await(IpvsClient client, VirtualServer vs, String address, Predicate<RealServer> condition,
                              String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<RealServer> last;
        do {
            last = client.realServers(vs);
            for (RealServer rs : last) {
                if (rs.address().getHostAddress().equals(address) && condition.test(rs)) {
                    return;
                }
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        fail(what + ": never seen on " + address + ": " + last);
    }

    /** `ipvsadm -Ln`: service line to its real server lines, whitespace collapsed, header left out. */
    static Map<String, Set<String>> listing() throws Exception {
        Map<String, Set<String>> out = new TreeMap<>();
        Set<String> current = null;
        for (String raw : run("ipvsadm", "-Ln").split("\n")) {
            String line = raw.strip().replaceAll("\\s+", " ");
            if (line.isEmpty() || line.startsWith("IP Virtual Server") || line.startsWith("Prot ")
                    || line.startsWith("-> RemoteAddress")) {
                continue;
            }
            if (line.startsWith("-> ")) {
                if (current == null) {
                    fail("ipvsadm -Ln: real server before any service: " + raw);
                }
                current.add(line);
            } else {
                current = new TreeSet<>();
                out.put(line, current);
            }
        }
        return out;
    }

    private IpvsSyncGuestChecks() {
    }
}
