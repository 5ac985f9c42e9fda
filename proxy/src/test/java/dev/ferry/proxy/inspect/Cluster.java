package dev.ferry.proxy.inspect;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Cidr;
import dev.ferry.core.Fixtures;
import dev.ferry.core.Fixtures.Ep;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.NodeInfo;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.iptables.IptablesConfig;
import dev.ferry.netfilter.CommandRunners;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.LocalAddresses;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The fixed cluster the golden tests inspect, built the way the proxy builds it (API objects
 * through core's ChangeTracker), and the rules our iptables backend writes for it.
 *
 * <pre>
 *   node-a (zone zone-a), addresses 192.168.0.10
 *   default/web    10.96.0.10:80 -> 8080: .21 ready node-a, .22 ready node-b, .23 not ready, .24 terminating+serving
 *   default/local  10.96.0.20:80, internalTrafficPolicy Local: .31 node-a, .32 node-b
 *   default/zoned  10.96.0.30:80, zone hints: .41 zone-a, .42 zone-b
 *   default/empty  10.96.0.40:80, no endpoints
 * </pre>
 */
final class Cluster {
    static final String NODE = "node-a";
    static final String NODE_IP = "192.168.0.10";
    static final IptablesConfig CONFIG = IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("10.244.0.0/16")));

    private Cluster() {
    }

    static ProxySnapshot snapshot() {
        List<String> problems = new ArrayList<>();
        ChangeTracker t = new ChangeTracker(NODE, (o, f, m) -> problems.add(o + " " + f + " " + m), () -> { });
        t.updateNode(new io.fabric8.kubernetes.api.model.NodeBuilder(Fixtures.node(NODE,
                Map.of(NodeInfo.ZONE_LABEL, "zone-a"))).withNewStatus().addNewAddress().withType("InternalIP")
                .withAddress(NODE_IP).endAddress().endStatus().build());
        t.updateService(null, withTarget(Fixtures.clusterIPService("default", "web", "10.96.0.10", "http", 80, "TCP"), 8080));
        t.updateEndpointSlice(null, Fixtures.slice("default", "web-1", "web", "http", 8080, "TCP",
                Ep.ready("10.244.0.21").onNode(NODE), Ep.ready("10.244.0.22").onNode("node-b"),
                Ep.ready("10.244.0.23").onNode("node-b").notReady(),
                Ep.ready("10.244.0.24").onNode("node-b").terminating(true)));
        t.updateService(null, new ServiceBuilder(Fixtures.clusterIPService("default", "local", "10.96.0.20", "http", 80, "TCP"))
                .editSpec().withInternalTrafficPolicy("Local").endSpec().build());
        t.updateEndpointSlice(null, Fixtures.slice("default", "local-1", "local", "http", 80, "TCP",
                Ep.ready("10.244.0.31").onNode(NODE), Ep.ready("10.244.0.32").onNode("node-b")));
        t.updateService(null, Fixtures.clusterIPService("default", "zoned", "10.96.0.30", "http", 80, "TCP"));
        t.updateEndpointSlice(null, Fixtures.slice("default", "zoned-1", "zoned", "http", 80, "TCP",
                Ep.ready("10.244.0.41").onNode("node-c").zones("zone-a"), Ep.ready("10.244.0.42").onNode("node-b").zones("zone-b")));
        t.updateService(null, Fixtures.clusterIPService("default", "empty", "10.96.0.40", "http", 80, "TCP"));
        ProxySnapshot snap = t.snapshot();
        if (!problems.isEmpty()) {
            throw new AssertionError("fixture has problems: " + problems);
        }
        return snap;
    }

    private static Service withTarget(Service svc, int targetPort) {
        return new ServiceBuilder(svc).editSpec().editFirstPort()
                .withTargetPort(new io.fabric8.kubernetes.api.model.IntOrString(targetPort)).endPort().endSpec().build();
    }

    /** iptables-save as the node would print it after our backend's sync of {@code snapshot}. */
    static String iptablesSave(ProxySnapshot snapshot) {
        return iptablesSave(snapshot, IpFamily.IPV4);
    }

    static String iptablesSave(ProxySnapshot snapshot, IpFamily family) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        IptablesConfig config = family == IpFamily.IPV4 ? CONFIG
                : IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("fd00:244::/48")));
        IptablesBackend backend = IptablesBackend.builder(family, config, CommandRunners.dryRun(out))
                .localAddresses(LocalAddresses.of(List.of(IpAddresses.parse(NODE_IP)))).build();
        if (!backend.sync(snapshot).ok()) {
            throw new AssertionError("dry-run sync failed");
        }
        return IptablesDump.empty().apply(buf.toString(StandardCharsets.UTF_8)).toSaveText();
    }

    /** A fake node with our rules for the fixture, its address and loopback. */
    static FakeNode node(ProxySnapshot snapshot) {
        FakeNode node = new FakeNode();
        node.saves.put(IpFamily.IPV4, iptablesSave(snapshot));
        node.addresses.add(IpAddresses.parse(NODE_IP));
        node.addresses.add(IpAddresses.parse("127.0.0.1"));
        return node;
    }
}
