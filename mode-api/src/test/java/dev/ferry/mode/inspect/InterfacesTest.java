package dev.ferry.mode.inspect;

import dev.ferry.netfilter.IptablesDump;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Interface matches settled for the tracer. */
class InterfacesTest {

    @Test
    void interfaceMatchesAreSettled() {
        List<String> rule = List.of("-i", "docker0", "!", "-o", "docker0", "-j", "ACCEPT");
        assertEquals(List.of("-j", "ACCEPT"), Interfaces.settle(rule, "docker0", "eth0"));
        assertNull(Interfaces.settle(rule, "eth0", "eth0"));
        assertNull(Interfaces.settle(rule, "docker0", "docker0"));
        assertEquals(List.of("!", "-o", "docker0", "-j", "ACCEPT"), Interfaces.settle(rule, "docker0", null));
        assertEquals(List.of("-j", "X"), Interfaces.settle(List.of("-i", "veth+", "-j", "X"), "veth12", null));
        // a -i after the target belongs to the target's options and is kept
        assertEquals(List.of("-j", "LOG", "-i"), Interfaces.settle(List.of("-j", "LOG", "-i"), "a", "b"));
    }

    @Test
    void docklikeRulesNoLongerStopTheTrace() {
        String save = """
                *nat
                :PREROUTING ACCEPT [0:0]
                :POSTROUTING ACCEPT [0:0]
                :DOCKER - [0:0]
                -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
                -A DOCKER -i docker0 -j RETURN
                COMMIT
                """;
        IptablesDump settled = Interfaces.resolve(IptablesDump.parse(save), "eth0", "docker0");
        assertEquals(List.of(), settled.table("nat").chain("POSTROUTING").orElseThrow().rules());
        assertEquals(List.of(), settled.table("nat").chain("DOCKER").orElseThrow().rules());
        assertTrue(settled.table("nat").has("DOCKER"));
    }
}
