package dev.ferry.proxy.e2e;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The behaviour a Service must show on the real kernel, shared by the file-source and API-source
 * tests. Every failure message carries our iptables lines and the proxy's last log lines.
 */
final class Checks {
    static final Duration PROGRAMMED = Duration.ofSeconds(30);
    private static final int ATTEMPTS = 60;

    private final Topology topology;
    private final Supplier<Proc> proxy;

    /** {@code proxy} is read at each failure so a restarted proxy's log is the one shown. */
    Checks(Topology topology, Supplier<Proc> proxy) {
        this.topology = topology;
        this.proxy = proxy;
    }

    String save() {
        return topology.node().iptablesSave();
    }

    /** Our rules and the proxy's log, for a failure message. */
    String state() {
        Proc p = proxy.get();
        return "KUBE-* rules in the node namespace:\n" + Rules.kubeExcerpt(save())
                + (topology.ipv6() ? "\nKUBE-* rules of ip6tables:\n" + Rules.kubeExcerpt(save6()) : "")
                + "\n" + (p == null ? "(no proxy running)" : ProxyProcess.logTail(p));
    }

    /** {@code ip6tables-save} of the node namespace. */
    String save6() {
        return topology.node().check("ip6tables-save").out();
    }

    /** Waits until the nat table sends clusterIp:port to a Service chain. */
    void awaitServed(String clusterIp, int port) {
        Wait.until("a KUBE-SERVICES rule for " + clusterIp + ":" + port, PROGRAMMED,
                () -> Rules.servesClusterIp(save(), clusterIp, port), this::state);
    }

    /** Waits until the rules DNAT to exactly {@code ipPorts} among the backends of the topology. */
    void awaitDnatTargets(Set<String> present, Set<String> absent) {
        Wait.until("DNAT rules to " + present + " and none to " + absent, PROGRAMMED, () -> {
            String save = save();
            return present.stream().allMatch(t -> Rules.dnatsTo(save, t))
                    && absent.stream().noneMatch(t -> Rules.dnatsTo(save, t));
        }, this::state);
    }

    /** Repeated TCP connections from {@code from} to clusterIp:port reach every one of {@code names}. */
    void assertTcpReachesAll(NetNs from, String clusterIp, int port, Set<String> names) {
        Clients.Reached r = Clients.reachAll(names, ATTEMPTS, () -> Clients.tcp(from, clusterIp, port));
        assertTrue(r.complete(), () -> "TCP from " + from + " to " + clusterIp + ":" + port + ": " + r.describe() + "\n" + state());
        assertTrue(names.containsAll(r.seen()), () -> "TCP answered by an endpoint that is not in the Service: " + r.describe());
    }

    void assertUdpReachesAll(NetNs from, String clusterIp, int port, Set<String> names) {
        Clients.Reached r = Clients.reachAll(names, ATTEMPTS, () -> Clients.udp(from, clusterIp, port));
        assertTrue(r.complete(), () -> "UDP from " + from + " to " + clusterIp + ":" + port + ": " + r.describe() + "\n" + state());
        assertTrue(names.containsAll(r.seen()), () -> "UDP answered by an endpoint that is not in the Service: " + r.describe());
    }

    /** {@code count} connections are answered only by {@code names}, and each of them answers. */
    void assertTcpOnly(NetNs from, String clusterIp, int port, Set<String> names, int count) {
        Clients.Reached r = Clients.sample(count, () -> Clients.tcp(from, clusterIp, port));
        assertEquals(new TreeSet<>(names), r.seen(),
                () -> "TCP from " + from + " to " + clusterIp + ":" + port + " over " + count + " connections: "
                        + r.describe() + "\n" + state());
    }

    /** Waits until a TCP connection to clusterIp:port is answered by {@code name}. */
    void awaitTcpAnswer(NetNs from, String clusterIp, int port, String name) {
        Wait.until(name + " answering TCP " + clusterIp + ":" + port + " from " + from, PROGRAMMED,
                () -> Clients.tcp(from, clusterIp, port), r -> name.equals(r.out().strip()),
                r -> r.describe() + "\n" + state());
    }

    /** Waits until a TCP connection to ip:port is answered by one of {@code names}. */
    void awaitReachable(NetNs from, String ip, int port, Set<String> names) {
        Wait.until("one of " + names + " answering TCP " + ip + ":" + port + " from " + from, PROGRAMMED,
                () -> Clients.tcp(from, ip, port), r -> names.contains(r.out().strip()),
                r -> r.describe() + "\n" + state());
    }

    /** A TCP connection from {@code sourceIp} in {@code from} to ip:port gets no answer at all (dropped). */
    void assertDropped(NetNs from, String sourceIp, String ip, int port) {
        Proc.Result r = Clients.tcpFrom(from, sourceIp, ip, port);
        assertTrue(Clients.timedOut(r), () -> "expected TCP " + ip + ":" + port + " from " + sourceIp
                + " to be dropped (no answer, no refusal), saw: " + r.describe() + "\n" + state());
    }

    /** A TCP connect to clusterIp:port is refused at once (REJECT), not left to time out. */
    void assertRefusedFast(NetNs from, String clusterIp, int port) {
        long start = System.nanoTime();
        Proc.Result r = Clients.tcp(from, clusterIp, port);
        long millis = (System.nanoTime() - start) / 1_000_000;
        if (r.ok() || !r.err().contains("Connection refused") || millis > 1500) {
            fail("expected TCP " + clusterIp + ":" + port + " from " + from + " to be refused at once (REJECT),"
                    + " saw after " + millis + " ms: " + r.describe() + "\n" + state());
        }
    }

    /**
     * A connection from outside the cluster CIDR is masqueraded: its conntrack entry's reply goes
     * to the node's own bridge address. A pod's is not: its reply goes back to the pod.
     */
    void assertMasqueradeOnlyFromOutside(String clusterIp, int port, Set<String> names) {
        for (NetNs client : List.of(topology.ext(), topology.pod())) {
            Proc.Result r = Clients.tcp(client, clusterIp, port);
            assertTrue(names.contains(r.out().strip()),
                    () -> "TCP from " + client + " to " + clusterIp + ":" + port + ", expected one of " + names
                            + ": " + r.describe() + "\n" + state());
        }
        String ext = conntrack(Topology.EXT_IP);
        String pod = conntrack(Topology.POD_IP);
        String extFlow = "src=" + Topology.EXT_IP + " dst=" + clusterIp + " ";
        assertTrue(lines(ext).stream().anyMatch(l -> l.contains(extFlow) && l.contains("dst=" + Topology.NODE_BRIDGE_IP + " ")),
                () -> "expected a conntrack entry " + extFlow + "… whose reply goes to the node (dst=" + Topology.NODE_BRIDGE_IP
                        + ", masqueraded); conntrack -L --orig-src " + Topology.EXT_IP + ":\n" + ext + "\n" + state());
        String podFlow = "src=" + Topology.POD_IP + " dst=" + clusterIp + " ";
        assertTrue(lines(pod).stream().anyMatch(l -> l.contains(podFlow) && l.contains("dst=" + Topology.POD_IP + " ")
                        && !l.contains("dst=" + Topology.NODE_BRIDGE_IP + " ")),
                () -> "expected the pod's conntrack entry " + podFlow + "… to reply to the pod itself (not masqueraded);"
                        + " conntrack -L --orig-src " + Topology.POD_IP + ":\n" + pod + "\n" + state());
    }

    String conntrack(String origSrc) {
        return topology.node().check("conntrack", "-L", "-p", "tcp", "--orig-src", origSrc).out();
    }

    private static List<String> lines(String s) {
        return s.lines().toList();
    }

    static String ipPort(String backend, int port) {
        return Topology.backendIp(backend) + ":" + port;
    }
}
