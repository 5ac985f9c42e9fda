package dev.ferry.core;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Upstream's --bind-address: the node's primary IP of its family, whatever its Node lists; the other family stays the Node's. */
class PrimaryAddressOverrideTest {

    private static Node node(String... addresses) {
        NodeBuilder b = new NodeBuilder(Fixtures.node("node-1", Map.of()));
        for (String a : addresses) {
            b.editOrNewStatus().addNewAddress().withType("InternalIP").withAddress(a).endAddress().endStatus();
        }
        return b.build();
    }

    @Test
    void theOverrideIsThePrimaryAddressOfItsFamily() throws Exception {
        ChangeTracker t = new ChangeTracker("node-1", Problems.IGNORE, () -> { });
        InetAddress override = InetAddress.getByName("10.0.0.5");
        t.overridePrimaryAddress(override);
        assertEquals(override, t.snapshot().node().primaryAddress(IpFamily.IPV4).orElseThrow(), "before the Node arrives too");
        t.updateNode(node("192.168.1.10", "fd00::10"));
        NodeInfo info = t.snapshot().node();
        assertEquals(override, info.primaryAddress(IpFamily.IPV4).orElseThrow());
        assertEquals(InetAddress.getByName("fd00::10"), info.primaryAddress(IpFamily.IPV6).orElseThrow());
        assertEquals(List.of(override, InetAddress.getByName("192.168.1.10"), InetAddress.getByName("fd00::10")), info.addresses());
    }

    @Test
    void withoutOverrideTheNodesFirstAddressIsPrimary() throws Exception {
        ChangeTracker t = new ChangeTracker("node-1", Problems.IGNORE, () -> { });
        t.updateNode(node("192.168.1.10"));
        assertEquals(InetAddress.getByName("192.168.1.10"), t.snapshot().node().primaryAddress(IpFamily.IPV4).orElseThrow());
    }
}
