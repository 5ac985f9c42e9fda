package dev.ferry.userspace;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortName;
import dev.ferry.iptables.ChainNames;
import dev.ferry.netfilter.IptablesDump;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden text of the userspace portal rules, and what a write does with the node's tables. */
class PortalWriterTest {

    private static final InetAddress HOST = IpAddresses.parse("10.240.115.247");

    static ServicePort port(String ns, String name, String portName, Protocol protocol, int port, int nodePort,
                            List<String> clusterIPs, List<String> externalIPs, List<String> lbIPs) {
        return new ServicePort(new ServicePortName(ns, name, portName, protocol),
                clusterIPs.stream().map(IpAddresses::parse).toList(), port, nodePort,
                externalIPs.stream().map(IpAddresses::parse).toList(), lbIPs.stream().map(IpAddresses::parse).toList(),
                List.<Cidr>of(), 0, false, false, 0, "");
    }

    private static PortalWriter.Output write(List<Portal> portals, IptablesDump existing, boolean leftovers) {
        return PortalWriter.write(IpFamily.IPV4, portals, HOST, existing, leftovers(leftovers));
    }

    /** The iptables mode's chains when removing leftovers, else none. */
    static Predicate<String> leftovers(boolean remove) {
        return remove ? ChainNames::isIptablesModeChain : chain -> false;
    }

    @Test
    void upstreamExampleOnAnEmptyNode() {
        Portal hostnames = new Portal(port("default", "hostnames", "default", Protocol.TCP, 80, 0,
                List.of("10.0.1.175"), List.of(), List.of()), 48577);
        PortalWriter.Output out = write(List.of(hostnames), IptablesDump.empty(), false);
        assertEquals("""
                *filter
                :KUBE-NODEPORT-NON-LOCAL - [0:0]
                -I INPUT -m comment --comment "Ensure that non-local NodePort traffic can flow" -j KUBE-NODEPORT-NON-LOCAL
                COMMIT
                *nat
                :KUBE-PORTALS-CONTAINER - [0:0]
                :KUBE-PORTALS-HOST - [0:0]
                :KUBE-NODEPORT-CONTAINER - [0:0]
                :KUBE-NODEPORT-HOST - [0:0]
                -I PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER
                -I OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-HOST
                -A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "handle service NodePorts; NOTE: this must be the last rule in the chain" -j KUBE-NODEPORT-CONTAINER
                -A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "handle service NodePorts; NOTE: this must be the last rule in the chain" -j KUBE-NODEPORT-HOST
                -A KUBE-PORTALS-CONTAINER -d 10.0.1.175/32 -p tcp -m comment --comment default/hostnames:default -m tcp --dport 80 -j REDIRECT --to-ports 48577
                -A KUBE-PORTALS-HOST -d 10.0.1.175/32 -p tcp -m comment --comment default/hostnames:default -m tcp --dport 80 -j DNAT --to-destination 10.240.115.247:48577
                COMMIT
                """, out.payload());
        assertEquals(7, out.lines());
        assertEquals(List.of(), out.warnings());
    }

    @Test
    void everyKindOfAddressAndTheNodePort() {
        Portal web = new Portal(port("ns", "web", "", Protocol.UDP, 53, 30053, List.of("172.30.0.10", "fd00::10"),
                List.of("192.0.2.7", "2001:db8::7"), List.of("198.51.100.9")), 40000);
        String payload = write(List.of(web), IptablesDump.empty(), false).payload();
        String rules = String.join("\n", payload.lines().filter(l -> l.startsWith("-A KUBE-")).toList());
        assertEquals("""
                -A KUBE-NODEPORT-NON-LOCAL -p udp -m comment --comment ns/web -m udp --dport 40000 -m state --state NEW -j ACCEPT
                -A KUBE-PORTALS-CONTAINER -d 172.30.0.10/32 -p udp -m comment --comment ns/web -m udp --dport 53 -j REDIRECT --to-ports 40000
                -A KUBE-PORTALS-CONTAINER -d 192.0.2.7/32 -p udp -m comment --comment ns/web -m udp --dport 53 -m physdev ! --physdev-is-in -j REDIRECT --to-ports 40000
                -A KUBE-PORTALS-CONTAINER -d 192.0.2.7/32 -p udp -m comment --comment ns/web -m udp --dport 53 -m addrtype --dst-type LOCAL -j REDIRECT --to-ports 40000
                -A KUBE-PORTALS-CONTAINER -d 198.51.100.9/32 -p udp -m comment --comment ns/web -m udp --dport 53 -j REDIRECT --to-ports 40000
                -A KUBE-PORTALS-HOST -d 172.30.0.10/32 -p udp -m comment --comment ns/web -m udp --dport 53 -j DNAT --to-destination 10.240.115.247:40000
                -A KUBE-PORTALS-HOST -d 192.0.2.7/32 -p udp -m comment --comment ns/web -m udp --dport 53 -m addrtype --dst-type LOCAL -j DNAT --to-destination 10.240.115.247:40000
                -A KUBE-PORTALS-HOST -d 198.51.100.9/32 -p udp -m comment --comment ns/web -m udp --dport 53 -j DNAT --to-destination 10.240.115.247:40000
                -A KUBE-NODEPORT-CONTAINER -p udp -m comment --comment ns/web -m udp --dport 30053 -j REDIRECT --to-ports 40000
                -A KUBE-NODEPORT-HOST -p udp -m comment --comment ns/web -m udp --dport 30053 -j DNAT --to-destination 10.240.115.247:40000""",
                rules);
    }

    @Test
    void ipv6UsesHostPrefixAndBracketedDnatTarget() {
        Portal v6 = new Portal(port("ns", "v6", "http", Protocol.TCP, 80, 30080, List.of("10.0.0.1", "fd00:172:30::41"),
                List.of(), List.of()), 41000);
        String payload = PortalWriter.write(IpFamily.IPV6, List.of(v6), IpAddresses.parse("fd00::1"),
                IptablesDump.empty(), leftovers(false)).payload();
        assertTrue(payload.contains("-A KUBE-PORTALS-CONTAINER -d fd00:172:30::41/128 -p tcp -m comment --comment ns/v6:http"
                + " -m tcp --dport 80 -j REDIRECT --to-ports 41000\n"), payload);
        assertTrue(payload.contains("-A KUBE-PORTALS-HOST -d fd00:172:30::41/128 -p tcp -m comment --comment ns/v6:http"
                + " -m tcp --dport 80 -j DNAT --to-destination [fd00::1]:41000\n"), payload);
        assertTrue(payload.contains("-A KUBE-NODEPORT-HOST -p tcp -m comment --comment ns/v6:http -m tcp --dport 30080"
                + " -j DNAT --to-destination [fd00::1]:41000\n"), payload);
        assertFalse(payload.contains("10.0.0.1"), "the other family's ClusterIP is not written: " + payload);
        assertThrows(IllegalArgumentException.class, () -> PortalWriter.write(IpFamily.IPV6, List.of(v6), HOST,
                IptablesDump.empty(), leftovers(false)), "an IPv4 host address for IPv6 rules");
        assertThrows(IllegalArgumentException.class, () -> PortalWriter.write(IpFamily.IPV6, List.of(v6),
                IpAddresses.parse("::1"), IptablesDump.empty(), leftovers(false)), "loopback is no DNAT target");
        assertThrows(IllegalArgumentException.class, () -> PortalWriter.write(IpFamily.IPV4, List.of(),
                IpAddresses.parse("0.0.0.0"), IptablesDump.empty(), leftovers(false)), "nor is the any address");
    }

    @Test
    void sctpIsSkippedWithAMessageAndTheRestIsWritten() {
        Portal sctp = new Portal(port("ns", "sig", "s", Protocol.SCTP, 3868, 0, List.of("172.30.0.5"), List.of(), List.of()), 40001);
        Portal tcp = new Portal(port("ns", "web", "", Protocol.TCP, 80, 0, List.of("172.30.0.6"), List.of(), List.of()), 40002);
        PortalWriter.Output out = write(List.of(sctp, tcp), IptablesDump.empty(), false);
        assertEquals(List.of("ns/sig:s: protocol SCTP is not supported in userspace mode (TCP and UDP only); its portals are skipped"),
                out.warnings());
        assertFalse(out.payload().contains("172.30.0.5"), out.payload());
        assertTrue(out.payload().contains("-d 172.30.0.6/32"), out.payload());
    }

    @Test
    void portalsAreWrittenInServicePortOrderWhateverTheCallersOrder() {
        Portal a = new Portal(port("a", "svc", "", Protocol.TCP, 80, 0, List.of("172.30.0.1"), List.of(), List.of()), 40001);
        Portal b = new Portal(port("b", "svc", "", Protocol.TCP, 80, 0, List.of("172.30.0.2"), List.of(), List.of()), 40002);
        assertEquals(write(List.of(a, b), IptablesDump.empty(), false).payload(),
                write(List.of(b, a), IptablesDump.empty(), false).payload());
    }

    @Test
    void hostileNamesStayOneQuotedComment() {
        Portal bad = new Portal(port("ns\"x", "a b\n-j ACCEPT", "p\\", Protocol.TCP, 80, 0, List.of("172.30.0.9"),
                List.of(), List.of()), 40000);
        String payload = write(List.of(bad), IptablesDump.empty(), false).payload();
        assertTrue(payload.contains("--comment \"ns_x/a b_-j ACCEPT:p_\" -m tcp"), payload);
        assertFalse(payload.contains("\n-j ACCEPT"), payload);
    }

    @Test
    void presentJumpsAreNotWrittenAgain() {
        Portal p = new Portal(port("ns", "web", "", Protocol.TCP, 80, 0, List.of("172.30.0.6"), List.of(), List.of()), 40002);
        String first = write(List.of(p), IptablesDump.empty(), false).payload();
        IptablesDump node = IptablesDump.empty().apply(first);
        String second = write(List.of(p), node, false).payload();
        assertFalse(second.contains("-I ") || second.contains("-A PREROUTING") || second.contains("-A OUTPUT"), second);
        assertEquals(node.toSaveText(), node.apply(second).toSaveText(), "a second write changes nothing");
    }

    /** What the iptables mode, kubelet and Docker leave on a node the userspace mode takes over. */
    static final String IPTABLES_MODE_NODE = """
            *mangle
            :KUBE-PROXY-CANARY - [0:0]
            :KUBE-KUBELET-CANARY - [0:0]
            COMMIT
            *filter
            :KUBE-SERVICES - [0:0]
            :KUBE-EXTERNAL-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-FORWARD - [0:0]
            :KUBE-PROXY-FIREWALL - [0:0]
            :KUBE-PROXY-CANARY - [0:0]
            :KUBE-FIREWALL - [0:0]
            :KUBE-KUBELET-CANARY - [0:0]
            :DOCKER - [0:0]
            -A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
            -A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
            -A INPUT -j KUBE-FIREWALL
            -A INPUT -s 1.2.3.4/32 -j ACCEPT
            -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
            -A FORWARD -o docker0 -j DOCKER
            -A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -A KUBE-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            -A KUBE-FIREWALL -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A DOCKER -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j ACCEPT
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-POSTROUTING - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            :KUBE-PROXY-CANARY - [0:0]
            :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
            :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
            :DOCKER - [0:0]
            -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
            -A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
            -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
            -A KUBE-SERVICES -d 172.30.0.44/32 -p tcp -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
            -A KUBE-SVC-4SW47YFZTEDKD3PK -j KUBE-SEP-UKSFD7AGPMPPLUHC
            -A KUBE-SEP-UKSFD7AGPMPPLUHC -s 10.180.0.4/32 -j KUBE-MARK-MASQ
            -A KUBE-SEP-UKSFD7AGPMPPLUHC -p tcp -m tcp -j DNAT --to-destination 10.180.0.4:80
            -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
            -A DOCKER -i docker0 -j RETURN
            COMMIT
            """;

    @Test
    void theIptablesModesLeftoversGoKubeletsAndForeignRulesStay() {
        IptablesDump node = IptablesDump.parse(IPTABLES_MODE_NODE);
        Portal p = new Portal(port("ns", "web", "", Protocol.TCP, 80, 0, List.of("172.30.0.6"), List.of(), List.of()), 40002);
        PortalWriter.Output out = write(List.of(p), node, true);
        assertEquals(List.of(), out.warnings());
        IptablesDump after = node.apply(out.payload());
        for (String table : List.of("mangle", "filter", "nat")) {
            for (String chain : after.table(table).chains().keySet()) {
                assertFalse(ChainNames.isIptablesModeChain(chain), table + " " + chain + " left:\n" + after.toSaveText());
            }
            for (IptablesDump.Chain c : after.table(table).chains().values()) {
                for (IptablesDump.Rule r : c.rules()) {
                    assertTrue(after.table(table).has(r.target()) || !r.target().startsWith("KUBE-"), "dangling " + r);
                }
            }
        }
        String text = after.toSaveText();
        for (String kept : List.of(":KUBE-KUBELET-CANARY", ":KUBE-FIREWALL", ":KUBE-MARK-MASQ",
                "-A INPUT -j KUBE-FIREWALL", "-A KUBE-FIREWALL -d 127.0.0.0/8 ! -s 127.0.0.0/8",
                "-A INPUT -s 1.2.3.4/32 -j ACCEPT", "-A FORWARD -o docker0 -j DOCKER",
                "-A DOCKER -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j ACCEPT",
                "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER", "-A DOCKER -i docker0 -j RETURN",
                "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
                "-A KUBE-PORTALS-CONTAINER -d 172.30.0.6/32")) {
            assertTrue(text.contains(kept), "missing " + kept + " in\n" + text);
        }
        // The leftovers are not removed again on later writes (first apply only).
        assertFalse(write(List.of(p), node, false).payload().contains("-X "));
    }

    @Test
    void aLeftoverChainAForeignChainJumpsToIsKeptAndReported() {
        IptablesDump node = IptablesDump.parse("""
                *nat
                :KUBE-SERVICES - [0:0]
                :MINE - [0:0]
                -A MINE -j KUBE-SERVICES
                COMMIT
                """);
        PortalWriter.Output out = write(List.of(), node, true);
        assertEquals(1, out.warnings().size(), out.warnings().toString());
        assertTrue(out.warnings().get(0).contains("KUBE-SERVICES kept"), out.warnings().toString());
        IptablesDump after = node.apply(out.payload());
        assertTrue(after.table("nat").has("KUBE-SERVICES"));
        assertEquals(List.of("-A MINE -j KUBE-SERVICES"), after.table("nat").chain("MINE").orElseThrow().rules()
                .stream().map(IptablesDump.Rule::text).toList());
    }
}
