package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The harness itself, without the proxy: if these fail, the other end-to-end failures are about
 * the test machine, not about ferry.
 */
class TopologyIT {
    private static Topology topology;

    @BeforeAll
    static void build() {
        Privileged.assumeRootWithTools();
        topology = Topology.create(2);
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    @Test
    void podAndExternalClientReachBackendsThroughTheNode() {
        String b1 = Topology.backendIp("b1");
        String b2 = Topology.backendIp("b2");
        assertEquals("b1", Clients.tcp(topology.pod(), b1, Topology.NAME_TCP_PORT).out().strip(),
                () -> "pod -> b1 TCP: " + Clients.tcp(topology.pod(), b1, Topology.NAME_TCP_PORT).describe());
        // a datagram may be lost while a fresh link resolves its neighbours: UDP gets a few tries
        Wait.until("pod -> b2 UDP answered by b2", Duration.ofSeconds(10),
                () -> Clients.udp(topology.pod(), b2, Topology.NAME_UDP_PORT), r -> "b2".equals(r.out().strip()),
                Proc.Result::describe);
        assertEquals("b2", Clients.tcp(topology.ext(), b2, Topology.NAME_TCP_PORT).out().strip(),
                () -> "ext -> b2 TCP: " + Clients.tcp(topology.ext(), b2, Topology.NAME_TCP_PORT).describe());
    }

    @Test
    void echoSessionCarriesSeveralLines() {
        try (var session = new Clients.EchoSession(topology.pod(), Topology.backendIp("b1"), Topology.ECHO_PORT)) {
            assertEquals("one", session.exchange("one", Duration.ofSeconds(5)), session::describe);
            assertEquals("two", session.exchange("two", Duration.ofSeconds(5)), session::describe);
        }
    }
}
