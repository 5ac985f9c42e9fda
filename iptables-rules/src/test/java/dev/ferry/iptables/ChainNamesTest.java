package dev.ferry.iptables;

import dev.ferry.core.Endpoint;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import dev.ferry.netfilter.KubeChains;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChainNamesTest {

    private static final ServicePortName SVC4 = new ServicePortName("ns4", "svc4", "p80", Protocol.TCP);

    @Test
    void upstreamExamples() {
        assertEquals("KUBE-SVC-4SW47YFZTEDKD3PK", ChainNames.service(SVC4));
        assertEquals("KUBE-EXT-4SW47YFZTEDKD3PK", ChainNames.external(SVC4));
        assertEquals("KUBE-SEP-UKSFD7AGPMPPLUHC", ChainNames.endpoint(SVC4, Endpoint.ready(IpAddresses.parse("10.180.0.4"), 80)));
        assertEquals("KUBE-SEP-C6EBXVWJJZMIWKLZ", ChainNames.endpoint(SVC4, Endpoint.ready(IpAddresses.parse("10.180.0.5"), 80)));
        ServicePortName svc1 = new ServicePortName("ns1", "svc1", "p80", Protocol.TCP);
        assertEquals("KUBE-SVC-XPGD46QRK7WJZT7O", ChainNames.service(svc1));
        assertEquals("KUBE-SVL-XPGD46QRK7WJZT7O", ChainNames.serviceLocal(svc1));
        assertEquals("KUBE-SEP-SXIVWICOYRO3J4NJ", ChainNames.endpoint(svc1, Endpoint.ready(IpAddresses.parse("10.180.0.1"), 80)));
        assertEquals("KUBE-SEP-ZX7GRIZKSNUQ3LAJ", ChainNames.endpoint(svc1, Endpoint.ready(IpAddresses.parse("10.180.2.1"), 80)));
        ServicePortName svc5 = new ServicePortName("ns5", "svc5", "p80", Protocol.TCP);
        assertEquals("KUBE-FW-NUKIZ6OKUXPJNT4C", ChainNames.firewall(svc5));
        assertEquals("KUBE-SEP-I77PXRDZVX7PMWMN", ChainNames.endpoint(svc5, Endpoint.ready(IpAddresses.parse("10.180.0.3"), 80)));
    }

    @Test
    void protocolIsPartOfTheHash() {
        ServicePortName udp = new ServicePortName("ns4", "svc4", "p80", Protocol.UDP);
        assertFalse(ChainNames.service(udp).equals(ChainNames.service(SVC4)));
        assertTrue(ChainNames.service(udp).length() <= 28, "iptables chain names are at most 28 characters");
    }

    @Test
    void theWritersHashOnceNamesMatchThePublicOnes() {
        for (ServicePortName name : java.util.List.of(SVC4, new ServicePortName("ns1", "svc1", "", Protocol.UDP),
                new ServicePortName("ns5", "svc5", "p80", Protocol.SCTP))) {
            byte[] key = (name + name.protocol().lower()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(ChainNames.service(name), ChainNames.SVC_PREFIX + ChainNames.portHash(key));
            assertEquals(ChainNames.firewall(name), ChainNames.FW_PREFIX + ChainNames.portHash(key));
            for (String ip : java.util.List.of("10.180.0.4", "fd00::1:2", "::ffff:0:a00:1", "192.168.255.255")) {
                Endpoint ep = Endpoint.ready(IpAddresses.parse(ip), 8080);
                assertEquals(ChainNames.endpoint(name, ep), ChainNames.endpoint(key, ep.hostPort()), ip);
            }
        }
        // Non-ASCII cannot reach here, but the hash input stays exact if it did.
        byte[] key = "ns/s:ptcp".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(ChainNames.SEP_PREFIX + ChainNames.hash16("ns/s:ptcpé:1"), ChainNames.endpoint(key, "é:1"));
    }

    @Test
    void ownership() {
        assertTrue(ChainNames.isServiceChain("KUBE-SEP-UKSFD7AGPMPPLUHC"));
        assertFalse(ChainNames.isServiceChain("KUBE-SERVICES"));
        assertTrue(KubeChains.isOurs("KUBE-SERVICES"));
        assertFalse(KubeChains.isOurs("DOCKER"));
    }
}
