package dev.ferry.netfilter;

import dev.ferry.core.Cidr;
import dev.ferry.core.LocalTraffic;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Upstream's detector arguments (TestNoOpLocalDetector, TestDetectLocalByCIDR, …ByBridgeInterface, …ByInterfaceNamePrefix). */
class LocalTrafficMatchTest {

    private static void assertMatches(LocalTraffic local, List<String> ifLocal, List<String> ifNotLocal) {
        assertEquals(ifLocal, LocalTrafficMatch.ifLocal(local), local::toString);
        assertEquals(ifNotLocal, LocalTrafficMatch.ifNotLocal(local), local::toString);
        LineBuffer rule = new LineBuffer();
        LocalTrafficMatch.addIfNotLocal(LocalTrafficMatch.addIfLocal(rule.start("-A"), local), local).end();
        assertEquals(String.join(" ", concat(List.of("-A"), ifLocal, ifNotLocal)) + "\n", rule.text().toString());
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        return java.util.Arrays.stream(parts).flatMap(List::stream).toList();
    }

    @Test
    void eachKindAsUpstreamWritesIt() {
        assertMatches(LocalTraffic.NONE, List.of(), List.of());
        assertMatches(new LocalTraffic.SourceCidr(Cidr.parse("10.0.0.0/14")), List.of("-s", "10.0.0.0/14"),
                List.of("!", "-s", "10.0.0.0/14"));
        assertMatches(new LocalTraffic.SourceCidr(Cidr.parse("2002:0:0:1234::/64")), List.of("-s", "2002:0:0:1234::/64"),
                List.of("!", "-s", "2002:0:0:1234::/64"));
        assertMatches(new LocalTraffic.InInterface("eth0"), List.of("-i", "eth0"), List.of("!", "-i", "eth0"));
        assertMatches(new LocalTraffic.InInterfacePrefix("eth0"), List.of("-i", "eth0+"), List.of("!", "-i", "eth0+"));
    }
}
