package dev.ferry.netfilter;

import java.util.ArrayList;
import java.util.List;

/**
 * What a v1.34 kubelet keeps in iptables on a node (pkg/kubelet/kubelet_network_linux.go: the
 * iptables hint, its canary in three tables, the anti-martian KUBE-FIREWALL with its jumps), plus
 * the KUBE-MARK-DROP an older kubelet left: for tests proving that no mode's start and no
 * --cleanup changes any of it.
 */
public final class KubeletChains {

    /** iptables-restore --noflush input that makes them as the kubelet does (jumps prepended). */
    public static final String RULES = """
            *mangle
            :KUBE-IPTABLES-HINT - [0:0]
            :KUBE-KUBELET-CANARY - [0:0]
            COMMIT
            *filter
            :KUBE-FIREWALL - [0:0]
            :KUBE-KUBELET-CANARY - [0:0]
            -I OUTPUT -j KUBE-FIREWALL
            -I INPUT -j KUBE-FIREWALL
            -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
            COMMIT
            *nat
            :KUBE-KUBELET-CANARY - [0:0]
            :KUBE-MARK-DROP - [0:0]
            -A KUBE-MARK-DROP -j MARK --or-mark 0x8000
            COMMIT
            """;

    private KubeletChains() {
    }

    /**
     * The kubelet's lines of iptables-save output, in order, each prefixed with its table: its
     * chain declarations, their rules and every jump into them.
     */
    public static List<String> lines(String save) {
        List<String> out = new ArrayList<>();
        String table = "?";
        for (String line : save.split("\n")) {
            if (line.startsWith("*")) {
                table = line.substring(1);
            } else if (KubeChains.KUBELET.stream().anyMatch(chain -> mentions(line, chain))) {
                out.add(table + ": " + line);
            }
        }
        return out;
    }

    private static boolean mentions(String line, String chain) {
        return line.startsWith(":" + chain + " ") || line.startsWith("-A " + chain + " ")
                || line.endsWith("-j " + chain) || line.contains("-j " + chain + " ");
    }
}
