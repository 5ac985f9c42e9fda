package dev.ferry.proxy.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.mode.inspect.Probabilities;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mode detection on a node, the trace shows the node's rules, probabilities as shown. */
class ModeAndInterfacesTest {

    private static final String EMPTY_NAT = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n";

    @Test
    void modeFromTheProxyFirstThenFromWhatIsProgrammed() throws IOException {
        FakeNode node = new FakeNode();
        node.saves.put(IpFamily.IPV4, EMPTY_NAT);
        node.proxyMode = "userspace";
        assertEquals("userspace", ModeDetection.detect(node.modes(), node).mode().name());
        node.proxyMode = "nftables"; // not ours: fall back to the node's state
        node.links.add("kube-ipvs0");
        assertEquals("ipvs", ModeDetection.detect(node.modes(), node).mode().name());
        node.links.clear();
        node.saves.put(IpFamily.IPV4, "*nat\n:KUBE-PORTALS-CONTAINER - [0:0]\nCOMMIT\n");
        assertEquals("userspace", ModeDetection.detect(node.modes(), node).mode().name());
        node.saves.put(IpFamily.IPV4, "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n");
        assertEquals("iptables", ModeDetection.detect(node.modes(), node).mode().name());
    }

    @Test
    void nothingProgrammedFailsAskingForTheFlag() {
        FakeNode node = new FakeNode();
        node.saves.put(IpFamily.IPV4, EMPTY_NAT);
        IOException e = assertThrows(IOException.class, () -> ModeDetection.detect(node.modes(), node));
        assertTrue(e.getMessage().endsWith("give --proxy-mode"), e.getMessage());
        ProxySnapshot snap = Cluster.snapshot();
        InspectGoldenTest.Run r = InspectGoldenTest.run(node, snap, "inspect", "services");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: cannot tell the proxy mode"), r.err());
    }

    @Test
    void traceShowsTheNodesRulesNotTheSettledOnes() {
        FakeNode node = new FakeNode();
        node.saves.put(IpFamily.IPV4, """
                *filter
                :INPUT ACCEPT [0:0]
                :FORWARD DROP [0:0]
                :OUTPUT ACCEPT [0:0]
                -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
                COMMIT
                *nat
                :PREROUTING ACCEPT [0:0]
                :INPUT ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :POSTROUTING ACCEPT [0:0]
                -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
                COMMIT
                """);
        node.routes.put(dev.ferry.core.IpAddresses.parse("172.17.0.2"), "docker0");
        node.routes.put(dev.ferry.core.IpAddresses.parse("192.0.2.1"), "eth0");
        InspectGoldenTest.Run r = InspectGoldenTest.run(node, Cluster.snapshot(), "trace", "--src", "172.17.0.2",
                "--dst", "192.0.2.1", "--port", "53", "--proto", "udp", "--proxy-mode", "iptables");
        assertEquals("""
                mode iptables (--proxy-mode)
                trace udp 172.17.0.2 -> 192.0.2.1:53: from another host (nat PREROUTING), arriving on docker0

                path:
                  filter FORWARD   -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
                  nat POSTROUTING  -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE

                endpoints reachable: none
                other outcomes:
                  accepted, not DNATed, masqueraded  100%
                """, r.out());
    }

    @Test
    void probabilities() {
        assertEquals("100%", Probabilities.format(1.0));
        assertEquals("33.33% (1/3)", Probabilities.format(0.33333333349));
        assertEquals("66.67% (2/3)", Probabilities.format((1 - 0.33333333349) * (1 - 0.5)  + 0.33333333349));
        assertEquals("12.34%", Probabilities.format(0.1234));
    }
}
