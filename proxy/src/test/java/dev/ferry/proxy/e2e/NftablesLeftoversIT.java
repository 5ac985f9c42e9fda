package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node an nftables-mode kube-proxy ran on: its {@code ip}/{@code ip6 kube-proxy} tables still DNAT
 * the web Service to an endpoint that is gone. Starting the proxy (iptables mode, one sync) deletes
 * them, and the Service reaches its real endpoint through our iptables rules; --cleanup deletes them
 * too; a table that is not ours stays byte-identical.
 */
class NftablesLeftoversIT {

    /** What the nftables mode leaves, cut down: base chains into a dispatch chain that DNATs to a gone endpoint. */
    private static final String LEFTOVER = """
            table ip kube-proxy {
            	comment "rules for kube-proxy"
            	set cluster-ips {
            		type ipv4_addr
            		elements = { %1$s }
            	}
            	chain nat-prerouting {
            		type nat hook prerouting priority -100; policy accept;
            		jump services
            	}
            	chain nat-output {
            		type nat hook output priority -100; policy accept;
            		jump services
            	}
            	chain services {
            		ip daddr %1$s tcp dport 80 dnat to %2$s:9
            	}
            }
            table ip6 kube-proxy {
            	chain nat-output {
            		type nat hook output priority -100; policy accept;
            	}
            }
            """.formatted(NodeFixture.WEB_IP, Topology.NODE_BRIDGE_IP);

    /** An admin's table, with the name of ours in another family. */
    private static final String FOREIGN = """
            table inet kube-proxy {
            	chain input {
            		type filter hook input priority 10; policy accept;
            		tcp dport 22 counter accept
            	}
            }
            """;

    @RegisterExtension
    final NodeFixture fx = NodeFixture.files(1);

    @Test
    void startingDeletesTheNftablesModeTablesAndTheServiceReachesItsEndpointAgain() {
        NetNs node = fx.node();
        // iptables' nat base chains exist before the leftover's (as on a node where Docker or an earlier
        // iptables-mode proxy made them): of two nat chains at one priority the later registered runs first,
        // so the leftover's DNAT wins over ours while its table stays.
        Proc.Result natChains = Proc.run(java.time.Duration.ofSeconds(20), node.argv("iptables-restore", "--noflush"),
                "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
        assertTrue(natChains.ok(), natChains::describe);
        nft(node, LEFTOVER + FOREIGN);
        String foreign = node.check("nft", "list", "table", "inet", "kube-proxy").out();
        fx.web("b1");

        Proc.Result once = ProxyProcess.run(node, fx.proxyArgs("--once"));

        assertEquals(0, once.exit(), once::describe);
        List<String> tables = tables(node);
        for (String family : List.of("ip", "ip6")) {
            assertTrue(once.err().contains("deleted nftables table " + family + " kube-proxy, left by an nftables-mode "
                    + "kube-proxy"), once::describe);
        }
        assertTrue(Rules.servesClusterIp(node.iptablesSave(), NodeFixture.WEB_IP, 80), node::iptablesSave);
        fx.checks().assertTcpReachesAll(fx.pod(), NodeFixture.WEB_IP, 80, Set.of("b1"));
        fx.checks().assertTcpReachesAll(node, NodeFixture.WEB_IP, 80, Set.of("b1"));

        Proc.Result again = ProxyProcess.run(node, fx.proxyArgs("--once"));
        assertEquals(0, again.exit(), again::describe);
        assertFalse(again.err().contains("deleted nftables"), () -> "absent tables are not mentioned: " + again.describe());
    }

    @Test
    void cleanupDeletesThemToo() {
        NetNs node = fx.node();
        nft(node, LEFTOVER + FOREIGN);
        String foreign = node.check("nft", "list", "table", "inet", "kube-proxy").out();

        Proc.Result cleanup = ProxyProcess.run(node, List.of("--cleanup", "-v", "2"));

        assertEquals(0, cleanup.exit(), cleanup::describe);
        List<String> tables = tables(node);
        assertFalse(tables.contains("table ip kube-proxy") || tables.contains("table ip6 kube-proxy"), tables::toString);
        assertEquals(foreign, node.check("nft", "list", "table", "inet", "kube-proxy").out());
    }

    private static void nft(NetNs node, String script) {
        Proc.Result r = Proc.run(java.time.Duration.ofSeconds(20), node.argv("nft", "-f", "-"), script);
        assertTrue(r.ok(), r::describe);
    }

    private static List<String> tables(NetNs node) {
        return node.check("nft", "list", "tables").out().lines().map(String::strip).toList();
    }
}
