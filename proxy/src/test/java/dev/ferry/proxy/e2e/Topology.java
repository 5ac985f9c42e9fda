package dev.ferry.proxy.e2e;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A throwaway node with pods, built from network namespaces on the real kernel.
 *
 * <pre>
 *   ext 198.51.100.2 ──veth── node 198.51.100.1            (a client outside the cluster CIDR)
 *   pod 10.244.1.10  ──veth── node 10.244.1.1              (the client pod)
 *   b1 10.244.0.21, b2 .22, … ──veth── bridge fybr0 10.244.0.1 in node   (the backend pods)
 *   node: ip_forward=1, route 10.96.0.0/12 via fybr0 (so its own traffic to a ClusterIP has a route
 *   to be DNATed from)
 *   ext also has 198.51.100.3, a second outside client (e.g. one a source range leaves out)
 * </pre>
 *
 * <p>With IPv6 ({@link #create(int, boolean)}), every link gets an IPv6 address as well, the node
 * forwards IPv6, and the backends serve the name and peer ports over IPv6 too:
 * <pre>
 *   ext fd00:198::2 ── node fd00:198::1;  pod fd00:244:1::10 ── node fd00:244:1::1;
 *   bN fd00:244::2N ── bridge fd00:244::1;  node: route fd00:96::/112 via fybr0
 * </pre>
 *
 * <p>The client pod sits on its own link, not on the backends' bridge: without br_netfilter (a
 * host-wide module we must not load) a backend's reply to a pod on the same bridge would skip the
 * node's IP stack and its un-DNAT. Every namespace and process is removed by {@link #close()}.
 * Each backend runs three socat servers: {@link #NAME_TCP_PORT} and {@link #NAME_UDP_PORT} answer
 * with the backend's name, {@link #ECHO_PORT} echoes, {@link #PEER_PORT} answers with the
 * address the connection came from (what the backend sees after any NAT).
 */
final class Topology implements AutoCloseable {
    static final String CLUSTER_CIDR = "10.244.0.0/16";
    static final String SERVICE_CIDR = "10.96.0.0/12";
    static final String NODE_BRIDGE_IP = "10.244.0.1";
    static final String NODE_POD_LINK_IP = "10.244.1.1";
    static final String POD_IP = "10.244.1.10";
    static final String NODE_EXT_IP = "198.51.100.1";
    static final String EXT_IP = "198.51.100.2";
    static final int NAME_TCP_PORT = 8080;
    static final int NAME_UDP_PORT = 5353;
    static final int ECHO_PORT = 7777;
    static final int PEER_PORT = 9090;
    static final String EXT_IP_2 = "198.51.100.3";

    static final String CLUSTER_CIDR_V6 = "fd00:244::/48";
    static final String SERVICE_CIDR_V6 = "fd00:96::/112";
    static final String NODE_BRIDGE_IP_V6 = "fd00:244::1";
    static final String NODE_POD_LINK_IP_V6 = "fd00:244:1::1";
    static final String POD_IP_V6 = "fd00:244:1::10";
    static final String NODE_EXT_IP_V6 = "fd00:198::1";
    static final String EXT_IP_V6 = "fd00:198::2";

    private final String prefix;
    private boolean ipv6;
    private final List<NetNs> namespaces = new ArrayList<>();
    private final List<Proc> processes = new ArrayList<>();
    private final Map<String, NetNs> backends = new LinkedHashMap<>();
    private NetNs node;
    private NetNs pod;
    private NetNs ext;
    /** Cleans up if the test JVM is stopped before {@link #close()} runs (e.g. a build timeout). */
    private final Thread shutdownHook = new Thread(this::close, "topology-cleanup");

    private Topology(String prefix) {
        this.prefix = prefix;
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Builds the node, pod and external namespaces and {@code backendCount} backends named b1…bN. */
    static Topology create(int backendCount) {
        return create(backendCount, false);
    }

    /** The same, with IPv6 addresses and servers too when {@code ipv6}. */
    static Topology create(int backendCount, boolean ipv6) {
        if (backendCount < 0 || backendCount > 9) {
            throw new IllegalArgumentException("backendCount must be 0..9: " + backendCount);
        }
        byte[] random = new byte[3];
        new SecureRandom().nextBytes(random);
        Topology t = new Topology("fy-" + HexFormat.of().formatHex(random));
        t.ipv6 = ipv6;
        try {
            t.build(backendCount);
            return t;
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
    }

    NetNs node() {
        return node;
    }

    NetNs pod() {
        return pod;
    }

    NetNs ext() {
        return ext;
    }

    NetNs backend(String name) {
        NetNs ns = backends.get(name);
        if (ns == null) {
            throw new IllegalArgumentException("no backend " + name + " in " + backends.keySet());
        }
        return ns;
    }

    /** Backend pod IP of b1, b2, … */
    static String backendIp(String name) {
        if (!name.matches("b[1-9]")) {
            throw new IllegalArgumentException("backend names are b1..b9: " + name);
        }
        return "10.244.0." + (20 + Integer.parseInt(name.substring(1)));
    }

    /** IPv6 address of backend b1, b2, … (when built with IPv6). */
    static String backendIpV6(String name) {
        backendIp(name); // checks the name
        return "fd00:244::" + (20 + Integer.parseInt(name.substring(1)));
    }

    boolean ipv6() {
        return ipv6;
    }

    /** A name unique to this topology, for files and sockets. */
    String prefix() {
        return prefix;
    }

    /** Starts a process the topology will kill on close. */
    Proc track(Proc p) {
        synchronized (processes) {
            processes.add(p);
        }
        return p;
    }

    /** Creates another namespace (no links) that is deleted on close, e.g. for a reference run. */
    NetNs extraNamespace(String role) {
        NetNs ns = NetNs.create(prefix + "-" + role);
        namespaces.add(ns);
        return ns;
    }

    private void build(int backendCount) {
        node = extraNamespace("node");
        pod = extraNamespace("pod");
        ext = extraNamespace("ext");

        node.check("ip", "link", "add", "fybr0", "type", "bridge");
        node.check("ip", "addr", "add", NODE_BRIDGE_IP + "/24", "dev", "fybr0");
        node.check("ip", "link", "set", "fybr0", "up");
        node.check("sysctl", "-qw", "net.ipv4.ip_forward=1");

        link(pod, "vpod", NODE_POD_LINK_IP, POD_IP);
        link(ext, "vext", NODE_EXT_IP, EXT_IP);
        ext.check("ip", "addr", "add", EXT_IP_2 + "/24", "dev", "eth0");
        for (int i = 1; i <= backendCount; i++) {
            String name = "b" + i;
            NetNs b = extraNamespace(name);
            backends.put(name, b);
            Proc.check(List.of("ip", "-n", node.name(), "link", "add", "v" + name, "type", "veth",
                    "peer", "name", "eth0", "netns", b.name()));
            node.check("ip", "link", "set", "v" + name, "master", "fybr0", "up");
            b.check("ip", "addr", "add", backendIp(name) + "/24", "dev", "eth0");
            b.check("ip", "link", "set", "eth0", "up");
            b.check("ip", "route", "add", "default", "via", NODE_BRIDGE_IP);
        }
        // the node's own traffic to a ClusterIP needs a route before nat OUTPUT can DNAT it
        node.check("ip", "route", "add", SERVICE_CIDR, "dev", "fybr0");
        if (ipv6) {
            addIpv6();
        }

        backends.forEach((name, b) -> {
            track(b.start(List.of("socat", "TCP4-LISTEN:" + NAME_TCP_PORT + ",fork,reuseaddr", "EXEC:echo " + name)));
            track(b.start(List.of("socat", "UDP4-RECVFROM:" + NAME_UDP_PORT + ",fork,reuseaddr", "EXEC:echo " + name)));
            track(b.start(List.of("socat", "TCP4-LISTEN:" + ECHO_PORT + ",fork,reuseaddr", "EXEC:cat")));
            // socat puts the client's address in the environment of the program it runs
            track(b.start(List.of("socat", "TCP4-LISTEN:" + PEER_PORT + ",fork,reuseaddr", "EXEC:printenv SOCAT_PEERADDR")));
            if (ipv6) {
                track(b.start(List.of("socat", "TCP6-LISTEN:" + NAME_TCP_PORT + ",fork,reuseaddr,ipv6only=1", "EXEC:echo " + name)));
                track(b.start(List.of("socat", "TCP6-LISTEN:" + PEER_PORT + ",fork,reuseaddr,ipv6only=1",
                        "EXEC:printenv SOCAT_PEERADDR")));
            }
        });
        // servers answer directly (no Service involved) before any test relies on them
        backends.forEach((name, b) -> {
            String ip = backendIp(name);
            Wait.until("backend " + name + " serving TCP and UDP at " + ip, Duration.ofSeconds(10),
                    () -> name.equals(Clients.tcp(node, ip, NAME_TCP_PORT).out().strip())
                            && name.equals(Clients.udp(node, ip, NAME_UDP_PORT).out().strip())
                            && Clients.tcpEchoOk(node, ip, ECHO_PORT)
                            && NODE_BRIDGE_IP.equals(Clients.tcp(node, ip, PEER_PORT).out().strip())
                            && (!ipv6 || name.equals(Clients.tcp(node, backendIpV6(name), NAME_TCP_PORT).out().strip())),
                    () -> "tcp: " + Clients.tcp(node, ip, NAME_TCP_PORT).describe()
                            + "\nudp: " + Clients.udp(node, ip, NAME_UDP_PORT).describe());
        });
    }

    /**
     * IPv6 on every link (nodad: usable at once, no duplicate address detection wait), IPv6
     * forwarding on the node, default routes via the node, and the node's route to the IPv6
     * Service range.
     */
    private void addIpv6() {
        node.check("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1");
        node.check("ip", "-6", "addr", "add", NODE_BRIDGE_IP_V6 + "/64", "dev", "fybr0", "nodad");
        node.check("ip", "-6", "addr", "add", NODE_POD_LINK_IP_V6 + "/64", "dev", "vpod", "nodad");
        node.check("ip", "-6", "addr", "add", NODE_EXT_IP_V6 + "/64", "dev", "vext", "nodad");
        addIpv6(pod, POD_IP_V6, NODE_POD_LINK_IP_V6);
        addIpv6(ext, EXT_IP_V6, NODE_EXT_IP_V6);
        backends.forEach((name, b) -> addIpv6(b, backendIpV6(name), NODE_BRIDGE_IP_V6));
        node.check("ip", "-6", "route", "add", SERVICE_CIDR_V6, "dev", "fybr0");
    }

    private static void addIpv6(NetNs ns, String ip, String gateway) {
        ns.check("ip", "-6", "addr", "add", ip + "/64", "dev", "eth0", "nodad");
        ns.check("ip", "-6", "route", "add", "default", "via", gateway);
    }

    /** A veth pair from the node to {@code peer}, each end with a /24, peer routed via the node. */
    private void link(NetNs peer, String nodeSide, String nodeIp, String peerIp) {
        Proc.check(List.of("ip", "-n", node.name(), "link", "add", nodeSide, "type", "veth",
                "peer", "name", "eth0", "netns", peer.name()));
        node.check("ip", "addr", "add", nodeIp + "/24", "dev", nodeSide);
        node.check("ip", "link", "set", nodeSide, "up");
        peer.check("ip", "addr", "add", peerIp + "/24", "dev", "eth0");
        peer.check("ip", "link", "set", "eth0", "up");
        peer.check("ip", "route", "add", "default", "via", nodeIp);
    }

    /** Kills every tracked process (and its children), then deletes every namespace. */
    @Override
    public synchronized void close() {
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException | IllegalArgumentException alreadyShuttingDownOrRemoved) {
                // fine: either the hook runs this anyway or it was removed by an earlier close()
            }
        }
        List<Proc> toKill;
        synchronized (processes) {
            toKill = new ArrayList<>(processes);
            processes.clear();
        }
        for (Proc p : toKill) {
            try {
                p.close();
            } catch (RuntimeException ignored) {
                // keep cleaning up the rest
            }
        }
        for (NetNs ns : namespaces) {
            ns.delete();
        }
        namespaces.clear();
    }
}
