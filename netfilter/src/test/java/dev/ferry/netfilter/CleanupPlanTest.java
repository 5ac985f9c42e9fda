package dev.ferry.netfilter;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a cleanup removes, computed from a node's tables: ours, never the kubelet's or anyone else's. */
class CleanupPlanTest {

    /** A node where kube-proxy ran next to a v1.34 kubelet (and an older kubelet left KUBE-MARK-DROP). */
    static final String NODE = """
            *mangle
            :PREROUTING ACCEPT [0:0]
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            :KUBE-IPTABLES-HINT - [0:0]
            :KUBE-KUBELET-CANARY - [0:0]
            :KUBE-PROXY-CANARY - [0:0]
            COMMIT
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :KUBE-FIREWALL - [0:0]
            :KUBE-KUBELET-CANARY - [0:0]
            :KUBE-SERVICES - [0:0]
            -A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-SERVICES
            -A INPUT -j KUBE-FIREWALL
            -A OUTPUT -j KUBE-FIREWALL
            -A KUBE-FIREWALL -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "ns/web:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
            COMMIT
            *nat
            :PREROUTING ACCEPT [0:0]
            :INPUT ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            :KUBE-KUBELET-CANARY - [0:0]
            :KUBE-MARK-DROP - [0:0]
            :KUBE-SERVICES - [0:0]
            -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
            COMMIT
            """;

    @Test
    void theKubeletsChainsAreNotOurs() {
        for (String chain : List.of("KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT", "KUBE-MARK-DROP")) {
            assertFalse(KubeChains.isOurs(chain), chain);
        }
        for (String chain : List.of("KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING", "KUBE-PROXY-CANARY",
                "KUBE-SVC-AAAAAAAAAAAAAAAA", "KUBE-PORTALS-CONTAINER", "KUBE-IPVS-FILTER")) {
            assertTrue(KubeChains.isOurs(chain), chain);
        }
        assertFalse(KubeChains.isOurs("DOCKER"));
    }

    @Test
    void everythingOfOursGoesTheKubeletsChainsAndJumpsStay() {
        CleanupPlan plan = CleanupPlan.of(IptablesDump.parse(NODE), chain -> true);

        assertEquals(List.of(), plan.problems());
        IptablesDump after = IptablesDump.parse(NODE).apply(plan.payload());
        assertEquals("""
                *mangle
                :PREROUTING ACCEPT [0:0]
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :POSTROUTING ACCEPT [0:0]
                :KUBE-IPTABLES-HINT - [0:0]
                :KUBE-KUBELET-CANARY - [0:0]
                COMMIT
                *filter
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :KUBE-FIREWALL - [0:0]
                :KUBE-KUBELET-CANARY - [0:0]
                -A INPUT -j KUBE-FIREWALL
                -A OUTPUT -j KUBE-FIREWALL
                -A KUBE-FIREWALL -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
                COMMIT
                *nat
                :PREROUTING ACCEPT [0:0]
                :INPUT ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :POSTROUTING ACCEPT [0:0]
                :KUBE-KUBELET-CANARY - [0:0]
                :KUBE-MARK-DROP - [0:0]
                -A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000
                COMMIT
                """, after.toSaveText());
    }

    @Test
    void aTableAwareChoiceRemovesAChainFromOneTableOnly() {
        // ipvs mode writes nat KUBE-SERVICES itself; filter KUBE-SERVICES is iptables mode's alone
        CleanupPlan plan = CleanupPlan.of(IptablesDump.parse(NODE),
                (table, chain) -> !(table.equals("nat") && chain.equals("KUBE-SERVICES")));

        IptablesDump after = IptablesDump.parse(NODE).apply(plan.payload());
        assertFalse(after.table("filter").has("KUBE-SERVICES"));
        assertFalse(after.table("mangle").has("KUBE-PROXY-CANARY"));
        assertTrue(after.table("nat").has("KUBE-SERVICES"));
        assertTrue(after.toSaveText().contains("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"));
        assertFalse(after.toSaveText().contains("health check service ports"));
    }
}
