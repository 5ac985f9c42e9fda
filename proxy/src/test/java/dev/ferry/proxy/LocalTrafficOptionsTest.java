package dev.ferry.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTrafficDetection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --detect-local-mode and its companions: parsing, upstream's checks, what the modes are given, and a dry run per mode. */
class LocalTrafficOptionsTest {

    @TempDir
    Path dir;

    @Test
    void theDefaultIsClusterCidrWithTheClusterCidrs() {
        assertEquals(LocalTrafficDetection.clusterCidr(List.of()), ProxyOptionsTest.parse().network().localTraffic());
        assertEquals(LocalTrafficDetection.clusterCidr(List.of(Cidr.parse("10.244.0.0/16"))),
                ProxyOptionsTest.parse("--cluster-cidr=10.244.0.0/16").network().localTraffic());
        assertEquals(LocalTrafficDetection.clusterCidr(List.of(Cidr.parse("10.244.0.0/16"))),
                ProxyOptionsTest.parse("--cluster-cidr=10.244.0.0/16", "--detect-local-mode=").network().localTraffic(),
                "upstream's empty value is its default, ClusterCIDR");
    }

    @Test
    void eachModeGivesItsDetection() {
        assertEquals(LocalTrafficDetection.nodeCidr(), ProxyOptionsTest.parse("--detect-local-mode=NodeCIDR",
                "--cluster-cidr=10.244.0.0/16").network().localTraffic(), "the cluster CIDR is not NodeCIDR's");
        assertEquals(LocalTrafficDetection.bridgeInterface("cbr0"), ProxyOptionsTest.parse(
                "--detect-local-mode", "BridgeInterface", "--pod-bridge-interface", "cbr0").network().localTraffic());
        assertEquals(LocalTrafficDetection.interfaceNamePrefix("veth"), ProxyOptionsTest.parse(
                "--detect-local-mode=InterfaceNamePrefix", "--pod-interface-name-prefix=veth",
                "--pod-bridge-interface=not used").network().localTraffic(), "the other mode's companion is not checked");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--detect-local-mode=Pods|\"Pods\" is not a local traffic detection mode (ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix)",
        "--detect-local-mode=bridgeinterface|did you mean BridgeInterface? (the names are case-sensitive)",
        "--detect-local-mode=BridgeInterface|--pod-bridge-interface: must be set: --detect-local-mode is BridgeInterface",
        "--detect-local-mode=InterfaceNamePrefix|--pod-interface-name-prefix: must be set: --detect-local-mode is InterfaceNamePrefix",
        "--detect-local-mode=BridgeInterface --pod-bridge-interface=br0123456789abcd|--pod-bridge-interface: the bridge interface \"br0123456789abcd\" is longer than 15 characters",
        "--detect-local-mode=InterfaceNamePrefix --pod-interface-name-prefix=a/b|--pod-interface-name-prefix: the interface name prefix \"a/b\" holds '/'",
    })
    void badValuesExitWith2NamingTheFlag(String args, String why) {
        ProxyOptionsTest.Run r = ProxyOptionsTest.main(args.split(" "));
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains(why), r.err());
    }

    @Test
    void theSettingsAreLoggedOnceWithUpstreamsNoteAndAnIgnoredCompanionIsWarnedAbout() {
        Logger logger = (Logger) LoggerFactory.getLogger(LocalTrafficOptionsTest.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            ProxyOptions o = ProxyOptionsTest.parse("--cluster-cidr=fd00:10::/64", "--pod-bridge-interface=cbr0");
            o.localTraffic.logSettings(logger, o.clusterCidrs, Set.of(IpFamily.IPV4, IpFamily.IPV6));
        } finally {
            logger.detachAppender(logs);
        }
        List<String> lines = logs.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
        assertEquals(List.of(
                "INFO local traffic detection: ClusterCIDR fd00:10::/64",
                "INFO --detect-local-mode=ClusterCIDR but no --cluster-cidr of IPv4: traffic to its ClusterIPs from outside "
                        + "the pods is not masqueraded",
                "WARN --pod-bridge-interface cbr0 is ignored: it is used with --detect-local-mode=BridgeInterface, not ClusterCIDR"),
                lines);
        assertFalse(logs.list.stream().anyMatch(e -> e.getLevel() == Level.ERROR));
    }

    private Path manifests(String podCidrs) throws IOException {
        Path m = Files.createDirectory(dir.resolve("m"));
        Files.writeString(m.resolve("node.yaml"), """
                apiVersion: v1
                kind: Node
                metadata:
                  name: n1
                spec:
                  podCIDRs: %s
                """.formatted(podCidrs));
        Files.copy(Path.of("../examples/manifests/web.yaml"), m.resolve("web.yaml"));
        return m;
    }

    @Test
    void eachModesRuleInADryRun() throws IOException {
        Path m = manifests("[10.244.1.0/24]");
        String[][] cases = {
                {"--cluster-cidr=10.244.0.0/16", "! -s 10.244.0.0/16 -j KUBE-MARK-MASQ"},
                {"--detect-local-mode=NodeCIDR", "! -s 10.244.1.0/24 -j KUBE-MARK-MASQ"},
                {"--detect-local-mode=BridgeInterface --pod-bridge-interface=cbr0", "! -i cbr0 -j KUBE-MARK-MASQ"},
                {"--detect-local-mode=InterfaceNamePrefix --pod-interface-name-prefix=veth", "! -i veth+ -j KUBE-MARK-MASQ"}};
        for (String[] c : cases) {
            List<String> args = new java.util.ArrayList<>(List.of("--manifests", m.toString(), "--dry-run", "--once",
                    "--hostname-override=n1"));
            args.addAll(List.of(c[0].split(" ")));
            ProxyOptionsTest.Run r = ProxyOptionsTest.main(args.toArray(String[]::new));
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().contains("-d 10.96.0.10 --dport 80 " + c[1] + "\n"), c[0] + ":\n" + r.out());
        }
    }

    @Test
    void nodeCidrWritesNothingUntilTheNodeHasPodCidrs() throws IOException {
        Path m = manifests("[]");
        CountDownLatch stopped = new CountDownLatch(0); // told to stop while it waits: it must give up, not sync
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int status = Main.run(new String[] {"--manifests", m.toString(), "--dry-run", "--once", "--hostname-override=n1",
                "--detect-local-mode=NodeCIDR"}, new java.io.PrintStream(out, true), System.err, stopped);
        assertEquals(1, status);
        assertFalse(out.toString().contains("*nat"), "no rules without the node's podCIDRs:\n" + out);
    }
}
