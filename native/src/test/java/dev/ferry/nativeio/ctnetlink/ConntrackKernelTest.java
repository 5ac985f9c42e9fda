package dev.ferry.nativeio.ctnetlink;

import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.NetlinkException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ctnetlink against the real kernel, in a throwaway namespace pair: flows made by socat through
 * a DNAT rule, dumped and deleted by us, checked with conntrack(8).
 */
class ConntrackKernelTest {

    private TestNetns ns;

    @BeforeEach
    void namespaces() {
        assumeTrue(TestNetns.isRoot(), "needs root to create network namespaces");
        ns = new TestNetns();
        // A nat rule makes conntrack track this namespace, and DNATs the "service" to the peer.
        ns.in(ns.node, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "-d", "10.96.0.10", "--dport", "53",
                "-j", "DNAT", "--to-destination", TestNetns.PEER_V4 + ":5353");
        ns.in(ns.node, "ip6tables", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "-d", "fd96::10", "--dport", "53",
                "-j", "DNAT", "--to-destination", "[" + TestNetns.PEER_V6 + "]:5353");
        ns.in(ns.node, "ip", "route", "add", "10.96.0.0/16", "dev", "veth0");
        ns.in(ns.node, "ip", "-6", "route", "add", "fd96::/64", "dev", "veth0");
    }

    @AfterEach
    void cleanUp() {
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void dumpsAndDeletesIpv4Flows() throws IOException {
        ns.sendUdp("10.96.0.10", 53, 41001);
        ns.sendUdp("10.96.0.10", 53, 41002);
        try (Conntrack ct = Conntrack.open(ns.nodeFile())) {
            List<ConntrackFlow> flows = ct.list(AddressFamily.INET);
            ConntrackFlow first = find(flows, 41001).orElseThrow(() -> new AssertionError("no flow from 41001 in " + flows));
            assertTrue(find(flows, 41002).isPresent(), flows.toString());
            assertEquals(ip("10.96.0.10"), first.original().destination());
            assertEquals(ip(TestNetns.PEER_V4), first.reply().source());
            assertEquals(5353, first.reply().sourcePort());

            assertTrue(ct.delete(first));

            String listed = ns.in(ns.node, "conntrack", "-L", "-f", "ipv4");
            assertFalse(listed.contains("sport=41001"), listed);
            assertTrue(listed.contains("sport=41002"), listed);
            assertFalse(ct.delete(first), "deleting a flow that is gone is not an error");
            assertTrue(find(ct.list(AddressFamily.INET), 41001).isEmpty());
        }
    }

    @Test
    void dumpsAndDeletesIpv6Flows() throws IOException {
        ns.sendUdp("fd96::10", 53, 41003);
        try (Conntrack ct = Conntrack.open(ns.nodeFile())) {
            List<ConntrackFlow> flows = ct.list(AddressFamily.INET6);
            ConntrackFlow flow = find(flows, 41003).orElseThrow(() -> new AssertionError("no flow in " + flows));
            assertEquals(AddressFamily.INET6, flow.family());
            assertEquals(ip(TestNetns.PEER_V6), flow.reply().source());
            assertTrue(ct.list(AddressFamily.INET).stream().noneMatch(f -> f.original().sourcePort() == 41003),
                    "an IPv4 dump holds no IPv6 flow");

            assertTrue(ct.delete(flow));

            String listed = ns.in(ns.node, "conntrack", "-L", "-f", "ipv6");
            assertFalse(listed.contains("sport=41003"), listed);
        }
    }

    @Test
    void aDeleteNamingAnOldIdLeavesTheNewerFlowAlone() throws IOException {
        ns.sendUdp("10.96.0.10", 53, 41004);
        try (Conntrack ct = Conntrack.open(ns.nodeFile())) {
            ConntrackFlow old = find(ct.list(AddressFamily.INET), 41004).orElseThrow();
            ConntrackFlow stale = new ConntrackFlow(old.family(), old.original(), old.reply(), old.id() + 1,
                    old.zone(), old.status(), old.timeout(), old.mark());
            assertFalse(ct.delete(stale), "a different id is a different (gone) entry");
            assertTrue(find(ct.list(AddressFamily.INET), 41004).isPresent());
        }
    }

    @Test
    void theNamespacesAreSeparate() throws IOException {
        ns.sendUdp("10.96.0.10", 53, 41005);
        try (Conntrack here = Conntrack.open()) {
            assertTrue(find(here.list(AddressFamily.INET), 41005).isEmpty(),
                    "the test namespace's flow must not show in this process's namespace");
        }
    }

    @Test
    void kernelErrorsNameTheRequest() throws IOException {
        try (Conntrack ct = Conntrack.open(ns.nodeFile())) {
            // IPCTNL_MSG_CT_GET without NLM_F_DUMP and without a tuple: the kernel answers EINVAL.
            NetlinkException e = assertThrows(NetlinkException.class, () -> ct.socket().request(
                    CtnetlinkCodec.type(CtnetlinkCodec.IPCTNL_MSG_CT_GET), 0,
                    CtnetlinkCodec.dumpRequest(AddressFamily.INET), "get flow without tuple"));
            assertTrue(e.getMessage().startsWith("get flow without tuple in /run/netns/" + ns.node + ": "), e.getMessage());
            // Still usable afterwards.
            ct.list(AddressFamily.INET);
        }
    }

    private static Optional<ConntrackFlow> find(List<ConntrackFlow> flows, int sourcePort) {
        return flows.stream().filter(f -> f.original().sourcePort() == sourcePort).findFirst();
    }

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }
}
