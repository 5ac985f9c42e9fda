package dev.ferry.ipvs.netlink;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static dev.ferry.ipvs.uml.GuestCheck.check;
import static dev.ferry.ipvs.uml.GuestCheck.equal;
import static dev.ferry.ipvs.uml.GuestCheck.fail;
import static dev.ferry.ipvs.uml.GuestCheck.ok;
import static dev.ferry.ipvs.uml.GuestCheck.run;

/**
 * Runs inside a {@link dev.ferry.ipvs.uml.UmlGuest} (see {@link IpvsClientIT}): drives {@link IpvsClient} against
 * the guest's real IPVS and compares with what ipvsadm shows and does. Prints "ok NAME" per passed check; the
 * first failed check prints "FAILED ..." with both sides and exits 1.
 */
public final class IpvsClientGuestChecks {

    private static final VirtualServer WEB = VirtualServer.of(Protocol.TCP, ip("10.96.0.10"), 80, "rr");
    private static final VirtualServer DNS = VirtualServer.of(Protocol.UDP, ip("10.96.0.10"), 53, "wrr")
            .withPersistence(10800);
    private static final VirtualServer WEB6 = new VirtualServer(IpFamily.IPV6, Protocol.TCP, ip("fd00::10"), 443, "sh",
            VirtualServer.FLAG_SH_PORT, 60, 64);
    private static final VirtualServer SCTP = VirtualServer.of(Protocol.SCTP, ip("10.96.0.11"), 9000, "lc");

    public static void main(String[] args) throws Exception {
        try (IpvsClient ipvs = IpvsClient.open()) {
            ourAdds(ipvs);
            ourUpdates(ipvs);
            ourDeletes(ipvs);
            ipvsadmAdds(ipvs);
            errors(ipvs);
            flush(ipvs);
            timeouts(ipvs);
            connectionCounts(ipvs);
        }
        anotherNamespace();
    }

    private static void ourAdds(IpvsClient ipvs) throws Exception {
        for (VirtualServer vs : List.of(WEB, DNS, WEB6, SCTP)) {
            ipvs.addService(vs);
        }
        ipvs.addRealServer(WEB, RealServer.of(ip("10.244.1.5"), 8080, 1));
        ipvs.addRealServer(WEB, RealServer.of(ip("10.244.1.6"), 8080, 2));
        ipvs.addRealServer(DNS, RealServer.of(ip("10.244.1.5"), 5353, 1));
        ipvs.addRealServer(WEB6, RealServer.of(ip("fd00::1:5"), 8443, 0));
        equal("our-adds-are-what-ipvsadm-shows", Set.of(
                "-A -t 10.96.0.10:80 -s rr",
                "-a -t 10.96.0.10:80 -r 10.244.1.5:8080 -m -w 1",
                "-a -t 10.96.0.10:80 -r 10.244.1.6:8080 -m -w 2",
                "-A -u 10.96.0.10:53 -s wrr -p 10800",
                "-a -u 10.96.0.10:53 -r 10.244.1.5:5353 -m -w 1",
                "-A -t [fd00::10]:443 -s sh -p 60 -M 64 -b sh-port",
                "-a -t [fd00::10]:443 -r [fd00::1:5]:8443 -m -w 0",
                "-A --sctp-service 10.96.0.11:9000 -s lc"), ipvsadmSave());
        equal("our-adds-are-what-ipvsadm-shows (our list)", Set.of(WEB, DNS, WEB6, SCTP), Set.copyOf(ipvs.services()));
        equal("our-adds-are-what-ipvsadm-shows (our real servers)",
                Set.of(RealServer.of(ip("10.244.1.5"), 8080, 1), RealServer.of(ip("10.244.1.6"), 8080, 2)),
                Set.copyOf(ipvs.realServers(WEB)));
        ok("our-adds-are-what-ipvsadm-shows");
    }

    private static void ourUpdates(IpvsClient ipvs) throws Exception {
        ipvs.updateService(WEB.withScheduler("lc").withPersistence(300));
        ipvs.updateService(DNS.withPersistence(0));
        ipvs.updateRealServer(WEB, RealServer.of(ip("10.244.1.6"), 8080, 0));
        String shown = ipvsadm("-Ln");
        check("our-updates-are-what-ipvsadm-shows", shown.contains("TCP  10.96.0.10:80 lc persistent 300")
                && shown.contains("UDP  10.96.0.10:53 wrr\n")
                && shown.matches("(?s).*-> 10\\.244\\.1\\.6:8080 +Masq +0 .*"), shown);
        equal("our-updates-are-what-ipvsadm-shows (our list)",
                Set.of(WEB.withScheduler("lc").withPersistence(300), DNS.withPersistence(0), WEB6, SCTP),
                Set.copyOf(ipvs.services()));
        ok("our-updates-are-what-ipvsadm-shows");
    }

    private static void ourDeletes(IpvsClient ipvs) throws Exception {
        ipvs.deleteRealServer(WEB, RealServer.of(ip("10.244.1.5"), 8080, 1));
        ipvs.deleteService(DNS);
        ipvs.deleteService(SCTP);
        equal("our-deletes-are-what-ipvsadm-shows", Set.of(
                "-A -t 10.96.0.10:80 -s lc -p 300",
                "-a -t 10.96.0.10:80 -r 10.244.1.6:8080 -m -w 0",
                "-A -t [fd00::10]:443 -s sh -p 60 -M 64 -b sh-port",
                "-a -t [fd00::10]:443 -r [fd00::1:5]:8443 -m -w 0"), ipvsadmSave());
        equal("our-deletes-are-what-ipvsadm-shows (real servers of a missing service)", List.of(), ipvs.realServers(DNS));
        ok("our-deletes-are-what-ipvsadm-shows");
    }

    private static void ipvsadmAdds(IpvsClient ipvs) throws Exception {
        ipvsadm("-A", "-t", "10.96.1.1:8080", "-s", "dh", "-p", "120");
        ipvsadm("-a", "-t", "10.96.1.1:8080", "-r", "10.244.2.2:80", "-m", "-w", "7");
        ipvsadm("-a", "-t", "10.96.1.1:8080", "-r", "10.244.2.3:8080", "-g", "-w", "2");
        ipvsadm("-A", "-f", "7", "-s", "rr"); // a firewall-mark service: not ours, not listed
        VirtualServer theirs = VirtualServer.of(Protocol.TCP, ip("10.96.1.1"), 8080, "dh").withPersistence(120);
        check("ipvsadm-adds-are-what-we-list", ipvs.services().contains(theirs)
                && ipvs.services().stream().noneMatch(vs -> vs.port() == 0), ipvs.services().toString());
        equal("ipvsadm-adds-are-what-we-list (real servers)", Set.of(RealServer.of(ip("10.244.2.2"), 80, 7),
                new RealServer(ip("10.244.2.3"), 8080, 2, RealServer.ForwardMethod.DIRECT_ROUTE, 0, 0)),
                Set.copyOf(ipvs.realServers(theirs)));
        ok("ipvsadm-adds-are-what-we-list");
    }

    private static void errors(IpvsClient ipvs) throws Exception {
        VirtualServer theirs = VirtualServer.of(Protocol.TCP, ip("10.96.1.1"), 8080, "rr");
        expectError("add service TCP 10.96.1.1:8080: File exists (EEXIST, errno 17)", Errno.EEXIST,
                () -> ipvs.addService(theirs));
        expectError("add real server 10.244.2.2:80 of service TCP 10.96.1.1:8080: File exists (EEXIST, errno 17)",
                Errno.EEXIST, () -> ipvs.addRealServer(theirs, RealServer.of(ip("10.244.2.2"), 80, 1)));
        expectError("delete service UDP 10.96.0.10:53: No such process (ESRCH, errno 3)", Errno.ESRCH,
                () -> ipvs.deleteService(DNS));
        expectError("update real server 10.9.9.9:80 of service TCP 10.96.1.1:8080: No such file or directory"
                + " (ENOENT, errno 2)", Errno.ENOENT, () -> ipvs.updateRealServer(theirs, RealServer.of(ip("10.9.9.9"), 80, 1)));
        expectError("add service TCP 10.96.9.9:80: No such file or directory (ENOENT, errno 2)", Errno.ENOENT,
                () -> ipvs.addService(VirtualServer.of(Protocol.TCP, ip("10.96.9.9"), 80, "nosuch")));
        ok("errors-name-the-object");
    }

    private static void flush(IpvsClient ipvs) throws Exception {
        ipvs.flush();
        equal("flush-empties-the-table", List.of(), ipvs.services());
        equal("flush-empties-the-table (ipvsadm)", Set.of(), ipvsadmSave());
        ok("flush-empties-the-table");
    }

    private static void timeouts(IpvsClient ipvs) throws Exception {
        ipvs.setTimeouts(IpvsTimeouts.ofSeconds(900, 120, 300));
        String shown = ipvsadm("-L", "--timeout");
        check("timeouts-round-trip", shown.contains("Timeout (tcp tcpfin udp): 900 120 300"), shown);
        equal("timeouts-round-trip (ours)", IpvsTimeouts.ofSeconds(900, 120, 300), ipvs.timeouts());
        ipvsadm("--set", "100", "10", "50");
        equal("timeouts-round-trip (ipvsadm's)", IpvsTimeouts.ofSeconds(100, 10, 50), ipvs.timeouts());
        ipvs.setTimeouts(IpvsTimeouts.ofSeconds(0, 30, 0));
        equal("timeouts-round-trip (zero leaves one as it is)", IpvsTimeouts.ofSeconds(100, 30, 50), ipvs.timeouts());
        ok("timeouts-round-trip");
    }

    /**
     * Real connections show in the counts a listing reads back (graceful termination waits on them): a connection
     * from the guest to the VIP is masqueraded to a real server that is another local address of the guest, so it
     * needs no second namespace. Active while established, inactive once closed.
     */
    private static void connectionCounts(IpvsClient ipvs) throws Exception {
        run(List.of("ip", "link", "add", "fy-ipvs0", "type", "dummy"));
        run(List.of("ip", "addr", "add", "10.96.5.5/32", "dev", "fy-ipvs0"));
        run(List.of("ip", "addr", "add", "10.96.5.6/32", "dev", "fy-ipvs0"));
        run(List.of("ip", "link", "set", "fy-ipvs0", "up"));
        VirtualServer vs = VirtualServer.of(Protocol.TCP, ip("10.96.5.5"), 9090, "rr");
        ipvs.addService(vs);
        ipvs.addRealServer(vs, RealServer.of(ip("10.96.5.6"), 9090, 1));
        try (ServerSocket server = new ServerSocket(9090)) {
            try (Socket client = new Socket(ip("10.96.5.5"), 9090); Socket accepted = server.accept()) {
                RealServer rs = awaitRealServer(ipvs, vs, r -> r.activeConnections() == 1);
                check("connection-counts", rs.forwardMethod() == RealServer.ForwardMethod.MASQUERADE
                        && accepted.getLocalAddress().equals(ip("10.96.5.6")), rs + " accepted on " + accepted);
            }
            awaitRealServer(ipvs, vs, r -> r.activeConnections() == 0 && r.inactiveConnections() == 1);
        }
        ipvs.deleteService(vs);
        ok("connection-counts");
    }

    private static RealServer awaitRealServer(IpvsClient ipvs, VirtualServer vs, Predicate<RealServer> condition)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<RealServer> last;
        do {
            last = ipvs.realServers(vs);
            if (last.size() == 1 && condition.test(last.get(0))) {
                return last.get(0);
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        fail("connection-counts: real servers of " + vs.label() + " never met the condition; last " + last);
        throw new AssertionError();
    }

    /** open(netnsFile): the table of another namespace, not this one's. */
    private static void anotherNamespace() throws Exception {
        String name = "fy-ipvs-" + ProcessHandle.current().pid();
        run(List.of("ip", "netns", "add", name));
        try {
            run(List.of("ip", "-n", name, "link", "set", "lo", "up"));
            try (IpvsClient other = IpvsClient.open(Path.of("/run/netns", name))) {
                other.addService(WEB);
                equal("another-namespace (ours there)", List.of(WEB), other.services());
            }
            equal("another-namespace (ipvsadm there)", Set.of("-A -t 10.96.0.10:80 -s rr"),
                    lines(run(List.of("ip", "netns", "exec", name, "ipvsadm", "-Sn"))));
            equal("another-namespace (ipvsadm here)", Set.of(), ipvsadmSave());
        } finally {
            run(List.of("ip", "netns", "delete", name));
        }
        ok("another-namespace");
    }

    private interface Call {
        void run() throws IOException;
    }

    private static void expectError(String message, int errno, Call call) {
        try {
            call.run();
        } catch (NetlinkException e) {
            check("errors-name-the-object", e.errno() == errno && e.getMessage().equals(message),
                    "expected [" + message + "], got [" + e.getMessage() + "] errno " + e.errno());
            return;
        } catch (IOException e) {
            check("errors-name-the-object", false, "expected a NetlinkException, got " + e);
        }
        check("errors-name-the-object", false, "expected [" + message + "], but the call succeeded");
    }

    private static Set<String> ipvsadmSave() throws Exception {
        return lines(ipvsadm("-Sn"));
    }

    private static Set<String> lines(String text) {
        Set<String> out = new TreeSet<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                out.add(line.strip());
            }
        }
        return out;
    }

    private static String ipvsadm(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>();
        command.add("ipvsadm");
        command.addAll(Arrays.asList(args));
        return run(command);
    }

    private static InetAddress ip(String text) {
        return IpAddresses.parse(text);
    }

    private IpvsClientGuestChecks() {
    }
}
