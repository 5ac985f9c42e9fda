package dev.ferry.core;

import dev.ferry.core.LocalTrafficDetection.Mode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which detector each --detect-local-mode gives each family: the cases of upstream's
 * TestGetLocalTrafficDetectors (pkg/proxy/util/localdetector_test.go), and the names an
 * interface detector accepts.
 */
class LocalTrafficDetectionTest {

    private static final Cidr V4 = Cidr.parse("10.0.0.0/14");
    private static final Cidr V6 = Cidr.parse("2002:0:0:1234::/64");
    private static final Cidr NODE_V4 = Cidr.parse("10.0.0.0/24");
    private static final Cidr NODE_V6 = Cidr.parse("2002::1234:abcd:ffff:0:0/96");

    private static NodeInfo node(Cidr... podCidrs) {
        return new NodeInfo("node", Map.of(), List.of(), List.of(podCidrs));
    }

    private static void assertDetectors(LocalTrafficDetection d, NodeInfo node, LocalTraffic v4, LocalTraffic v6) {
        assertEquals(v4, d.forFamily(IpFamily.IPV4, node), () -> d + ", IPv4");
        assertEquals(v6, d.forFamily(IpFamily.IPV6, node), () -> d + ", IPv6");
    }

    @Test
    void clusterCidrTakesTheFirstCidrOfEachFamilyAndNoneWithout() {
        assertDetectors(LocalTrafficDetection.clusterCidr(List.of(V4)), null, new LocalTraffic.SourceCidr(V4), LocalTraffic.NONE);
        assertDetectors(LocalTrafficDetection.clusterCidr(List.of(V6)), null, LocalTraffic.NONE, new LocalTraffic.SourceCidr(V6));
        assertDetectors(LocalTrafficDetection.clusterCidr(List.of(V6, V4)), null,
                new LocalTraffic.SourceCidr(V4), new LocalTraffic.SourceCidr(V6));
        assertDetectors(LocalTrafficDetection.clusterCidr(List.of()), null, LocalTraffic.NONE, LocalTraffic.NONE);
    }

    @Test
    void nodeCidrTakesTheNodesPodCidrsNotTheClusterCidr() {
        LocalTrafficDetection d = LocalTrafficDetection.nodeCidr();
        assertDetectors(d, node(NODE_V4), new LocalTraffic.SourceCidr(NODE_V4), LocalTraffic.NONE);
        assertDetectors(d, node(NODE_V6), LocalTraffic.NONE, new LocalTraffic.SourceCidr(NODE_V6));
        assertDetectors(d, node(NODE_V6, NODE_V4), new LocalTraffic.SourceCidr(NODE_V4), new LocalTraffic.SourceCidr(NODE_V6));
        assertDetectors(d, node(), LocalTraffic.NONE, LocalTraffic.NONE);
        assertDetectors(d, null, LocalTraffic.NONE, LocalTraffic.NONE);
        assertTrue(d.needsNodePodCidrs());
        assertThrows(IllegalArgumentException.class, () -> new LocalTrafficDetection(Mode.NODE_CIDR, List.of(V4), ""));
    }

    @Test
    void interfaceModesDetectTheSameInterfaceInBothFamilies() {
        assertDetectors(LocalTrafficDetection.bridgeInterface("eth"), null,
                new LocalTraffic.InInterface("eth"), new LocalTraffic.InInterface("eth"));
        assertDetectors(LocalTrafficDetection.interfaceNamePrefix("veth"), node(NODE_V4),
                new LocalTraffic.InInterfacePrefix("veth"), new LocalTraffic.InInterfacePrefix("veth"));
        assertFalse(LocalTrafficDetection.bridgeInterface("cbr0").needsNodePodCidrs());
    }

    @Test
    void modeNamesAreUpstreamsAndCaseSensitive() {
        assertEquals(Optional.of(Mode.CLUSTER_CIDR), Mode.named(""));
        for (Mode m : Mode.values()) {
            assertEquals(Optional.of(m), Mode.named(m.upstreamName()));
        }
        assertEquals(Optional.empty(), Mode.named("nodecidr"));
        assertEquals(Optional.empty(), Mode.named("abcd"));
    }

    @Test
    void interfaceNamesTheKernelCannotHoldAreRefusedSayingWhy() {
        assertEquals("the bridge interface must not be empty",
                assertThrows(IllegalArgumentException.class, () -> LocalTrafficDetection.bridgeInterface("")).getMessage());
        assertEquals("the bridge interface \"1234567890123456\" is longer than 15 characters",
                assertThrows(IllegalArgumentException.class, () -> new LocalTraffic.InInterface("1234567890123456")).getMessage());
        new LocalTraffic.InInterface("123456789012345"); // IFNAMSIZ - 1
        assertEquals("the interface name prefix \"123456789012345\" is longer than 14 characters",
                assertThrows(IllegalArgumentException.class, () -> new LocalTraffic.InInterfacePrefix("123456789012345")).getMessage(),
                "iptables writes prefix+, which must fit a name");
        for (String bad : List.of("br 0", "br/0", "br:0", "br\"0", "br'0", "..", "br\t")) {
            assertThrows(IllegalArgumentException.class, () -> new LocalTraffic.InInterface(bad), bad);
        }
        new LocalTraffic.InInterface("br-1.100_x@y"); // what Linux allows
    }
}
