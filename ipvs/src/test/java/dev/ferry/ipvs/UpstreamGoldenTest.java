package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.netfilter.NetworkSettings;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

import static dev.ferry.ipvs.ChainView.returnFrom;
import static dev.ferry.ipvs.ChainView.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Goldens taken from upstream's own IPVS tests (k8s.io/kubernetes pkg/proxy/ipvs/proxier_test.go):
 * the same Services and endpoints, and the ipset entries (ExpectedIPSet) and per-chain rules
 * (ExpectedIptablesChain: jump, match-set, source) upstream expects, compared rule for rule in
 * order. Upstream's fake proxier has no local-traffic detector and no node IP, as here.
 */
class UpstreamGoldenTest {

    private static final NetworkSettings CONFIG = NetworkSettings.defaults();

    private static IpvsSets sets(ProxySnapshot snap, List<String> nodePortAddresses, String... nodeAddresses) {
        NetworkSettings config = new NetworkSettings(14, false, List.of(), nodePortAddresses);
        return new IpsetWriter(IpFamily.IPV4, config).write(snap,
                java.util.Arrays.stream(nodeAddresses).map(Snap::ip).toList());
    }

    private static String rules(IpvsSets sets) {
        return new IpvsRuleWriter(IpFamily.IPV4, CONFIG, true).write(sets, CONFIG.localTraffic(IpFamily.IPV4, null), List.of());
    }

    private static SortedSet<String> entries(String... e) {
        return new TreeSet<>(Set.of(e));
    }

    /** TestOnlyLocalNodePorts: NodePort 3001 with externalTrafficPolicy Local. */
    @Test
    void onlyLocalNodePorts() {
        ProxySnapshot snap = new Snap()
                .port("ns1", "svc1", "p80", Protocol.TCP, "10.20.30.41", 80).nodePort(3001).externalLocal(0)
                .endpoint("10.180.0.1", 80, true).endpoint("10.180.1.1", 80, false).done()
                .build();
        IpvsSets sets = sets(snap, List.of("100.101.102.0/24"), "100.101.102.103", "2001:db8::");
        assertEquals(entries("3001"), sets.entries(KubeIpSet.NODE_PORT_TCP));
        assertEquals(entries("3001"), sets.entries(KubeIpSet.NODE_PORT_LOCAL_TCP));
        String text = rules(sets);
        assertEquals(List.of(returnFrom("127.0.0.0/8"), rule("KUBE-MARK-MASQ", "KUBE-CLUSTER-IP"),
                rule("KUBE-NODE-PORT", ""), rule("ACCEPT", "KUBE-CLUSTER-IP")), ChainView.of(text, "KUBE-SERVICES"));
        assertEquals(List.of(rule("RETURN", "KUBE-NODE-PORT-LOCAL-TCP"), rule("KUBE-MARK-MASQ", "KUBE-NODE-PORT-TCP"),
                rule("ACCEPT", "KUBE-HEALTH-CHECK-NODE-PORT")), ChainView.of(text, "KUBE-NODE-PORT"));
    }

    /**
     * TestHealthCheckNodePort: two Local LoadBalancers with health check ports 30000 and 30001
     * (upstream's third, Cluster policy, has no health check port in its model, nor in ours).
     */
    @Test
    void healthCheckNodePort() {
        ProxySnapshot snap = new Snap()
                .port("ns1", "valid-svc1", "p80", Protocol.TCP, "10.20.30.41", 80).nodePort(3000).externalLocal(30000).done()
                .port("ns1", "valid-svc2", "p80", Protocol.TCP, "10.20.30.41", 80).nodePort(3000).externalLocal(30001).done()
                .port("ns1", "invalid-svc3", "p80", Protocol.TCP, "10.20.30.41", 80).nodePort(3000).done()
                .build();
        IpvsSets sets = sets(snap, List.of("100.101.102.0/24"), "100.101.102.103", "2001:db8::");
        assertEquals(entries("30000", "30001"), sets.entries(KubeIpSet.HEALTH_CHECK_NODE_PORT));
        assertEquals(List.of(rule("RETURN", "KUBE-NODE-PORT-LOCAL-TCP"), rule("KUBE-MARK-MASQ", "KUBE-NODE-PORT-TCP"),
                rule("ACCEPT", "KUBE-HEALTH-CHECK-NODE-PORT")), ChainView.of(rules(sets), "KUBE-NODE-PORT"));
    }

    /** TestLoadBalancerSourceRanges: LB 1.2.3.4:80 allowed from 10.0.0.0/8. */
    @Test
    void loadBalancerSourceRanges() {
        ProxySnapshot snap = new Snap()
                .port("ns1", "svc1", "p80", Protocol.TCP, "10.20.30.41", 80).lbIP("1.2.3.4").sourceRange("10.0.0.0/8")
                .endpoint("10.180.0.1", 80, false).done()
                .build();
        IpvsSets sets = sets(snap, List.of());
        assertEquals(entries("1.2.3.4,tcp:80"), sets.entries(KubeIpSet.LOAD_BALANCER));
        assertEquals(entries("1.2.3.4,tcp:80"), sets.entries(KubeIpSet.LOAD_BALANCER_FW));
        assertEquals(entries("1.2.3.4,tcp:80,10.0.0.0/8"), sets.entries(KubeIpSet.LOAD_BALANCER_SOURCE_CIDR));
        String text = rules(sets);
        assertEquals(List.of(returnFrom("127.0.0.0/8"), rule("KUBE-LOAD-BALANCER", "KUBE-LOAD-BALANCER"),
                rule("KUBE-MARK-MASQ", "KUBE-CLUSTER-IP"), rule("KUBE-NODE-PORT", ""),
                rule("ACCEPT", "KUBE-CLUSTER-IP"), rule("ACCEPT", "KUBE-LOAD-BALANCER")),
                ChainView.of(text, "KUBE-SERVICES"));
        assertEquals(List.of(rule("KUBE-SOURCE-RANGES-FIREWALL", "KUBE-LOAD-BALANCER-FW")),
                ChainView.of(text, "KUBE-PROXY-FIREWALL"));
        assertEquals(List.of(rule("RETURN", "KUBE-LOAD-BALANCER-SOURCE-CIDR"), rule("DROP", "")),
                ChainView.of(text, "KUBE-SOURCE-RANGES-FIREWALL"));
    }

    /** TestAcceptIPVSTraffic: a ClusterIP with an external IP, a LoadBalancer and a NodePort. */
    @Test
    void acceptIpvsTraffic() {
        ProxySnapshot snap = new Snap()
                .port("ns1", "svc1", "p80", Protocol.TCP, "10.20.30.40", 80).externalIP("5.6.7.8").done()
                .port("ns1", "svc2", "p80", Protocol.TCP, "10.20.30.41", 80).nodePort(80).lbIP("1.2.3.4").done()
                .port("ns1", "svc3", "p80", Protocol.TCP, "10.20.30.42", 80).nodePort(80).done()
                .build();
        IpvsSets sets = sets(snap, List.of());
        assertEquals(List.of(returnFrom("127.0.0.0/8"), rule("KUBE-LOAD-BALANCER", "KUBE-LOAD-BALANCER"),
                rule("KUBE-MARK-MASQ", "KUBE-CLUSTER-IP"), rule("KUBE-MARK-MASQ", "KUBE-EXTERNAL-IP"),
                rule("ACCEPT", "KUBE-EXTERNAL-IP"), rule("ACCEPT", "KUBE-EXTERNAL-IP"), rule("KUBE-NODE-PORT", ""),
                rule("ACCEPT", "KUBE-CLUSTER-IP"), rule("ACCEPT", "KUBE-LOAD-BALANCER")),
                ChainView.of(rules(sets), "KUBE-SERVICES"));
    }

    /** TestOnlyLocalLoadBalancing: LB 1.2.3.4 with NodePort 3001 and externalTrafficPolicy Local. */
    @Test
    void onlyLocalLoadBalancing() {
        ProxySnapshot snap = new Snap()
                .port("ns1", "svc1", "p80", Protocol.TCP, "10.20.30.41", 80).nodePort(3001).lbIP("1.2.3.4")
                .externalLocal(0).endpoint("10.180.0.1", 80, true).endpoint("10.180.1.1", 80, false).done()
                .build();
        IpvsSets sets = sets(snap, List.of());
        assertEquals(entries("1.2.3.4,tcp:80"), sets.entries(KubeIpSet.LOAD_BALANCER));
        assertEquals(entries("1.2.3.4,tcp:80"), sets.entries(KubeIpSet.LOAD_BALANCER_LOCAL));
        String text = rules(sets);
        assertEquals(List.of(returnFrom("127.0.0.0/8"), rule("KUBE-LOAD-BALANCER", "KUBE-LOAD-BALANCER"),
                rule("KUBE-MARK-MASQ", "KUBE-CLUSTER-IP"), rule("KUBE-NODE-PORT", ""),
                rule("ACCEPT", "KUBE-CLUSTER-IP"), rule("ACCEPT", "KUBE-LOAD-BALANCER")),
                ChainView.of(text, "KUBE-SERVICES"));
        assertEquals(List.of(rule("RETURN", "KUBE-LOAD-BALANCER-LOCAL"), rule("KUBE-MARK-MASQ", "")),
                ChainView.of(text, "KUBE-LOAD-BALANCER"));
    }
}
