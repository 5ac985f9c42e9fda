package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import dev.ferry.mode.inspect.Columns;
import dev.ferry.mode.inspect.Probabilities;
import dev.ferry.mode.inspect.TraceRequest;
import dev.ferry.netfilter.IptablesDump;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code trace} in ipvs mode: the virtual server the packet's destination matches in the live
 * IPVS table, its real servers with the share of new connections their weights give, and
 * whether the packet is masqueraded, read from IPVS mode's fixed iptables rules and ipsets
 * (upstream's layout: KUBE-CLUSTER-IP with the cluster CIDR or masquerade-all, external and
 * load-balancer IPs and node ports unless their Local set holds them, hairpin via KUBE-LOOP-BACK).
 */
final class IpvsTrace {

    private IpvsTrace() {
    }

    /**
     * @param natDump the nat table of the packet's family, or null when it could not be read
     * @param ipsets  set name -> members, as {@code ipset save} lists them
     */
    static String render(TraceRequest req, Map<VirtualServer, List<RealServer>> table, IptablesDump natDump,
                         Map<String, Set<String>> ipsets, List<InetAddress> localAddresses) {
        StringBuilder sb = new StringBuilder();
        sb.append("trace ").append(req.describe()).append(": IPVS table\n\n");
        VirtualServer match = null;
        for (VirtualServer vs : table.keySet()) {
            if (vs.protocol() == req.protocol() && vs.port() == req.port() && vs.address().equals(req.destination())) {
                match = vs;
                break;
            }
        }
        if (match == null) {
            sb.append("virtual server: none for ").append(req.protocol()).append(' ')
                    .append(IpAddresses.hostPort(req.destination(), req.port()))
                    .append(": IPVS leaves the packet alone (not a Service address and port on this node)\n");
            return sb.toString();
        }
        List<RealServer> reals = table.get(match);
        sb.append("virtual server: ").append(IpvsView.describe(match)).append('\n');
        long total = reals.stream().mapToLong(RealServer::weight).sum();
        String entry = IpAddresses.format(req.destination()) + "," + req.protocol().lower() + ":" + req.port();
        String kind = kind(entry, req, ipsets, localAddresses);
        sb.append("destination kind: ").append(kind).append('\n');
        if (match.persistenceTimeoutSeconds() > 0) {
            sb.append("session affinity: a client returning within ").append(match.persistenceTimeoutSeconds())
                    .append("s gets its previous real server\n");
        }
        if (total == 0) {
            sb.append("\nendpoints reachable: none (no real server with weight > 0: the connection is refused)\n");
            return sb.toString();
        }
        boolean exact = Set.of("rr", "wrr").contains(match.scheduler());
        sb.append("\nendpoints reachable (share of new connections by weight")
                .append(exact ? "" : "; scheduler " + match.scheduler() + " picks per connection").append("):\n");
        Columns c = new Columns();
        for (RealServer rs : reals) {
            if (rs.weight() == 0) {
                c.row(IpAddresses.hostPort(rs.address(), rs.port()), "0%", "weight 0", "no new connections (terminating)");
                continue;
            }
            c.row(IpAddresses.hostPort(rs.address(), rs.port()), Probabilities.format((double) rs.weight() / total),
                    "weight " + rs.weight(), masquerade(kind, req, rs, natDump, ipsets));
        }
        sb.append(c.render("  "));
        return sb.toString();
    }

    /** Which of IPVS mode's address kinds the destination is, by the sets that hold it. */
    private static String kind(String entry, TraceRequest req, Map<String, Set<String>> ipsets, List<InetAddress> local) {
        IpFamily f = req.family();
        if (has(ipsets, KubeIpSet.CLUSTER_IP.name(f), entry)) {
            return "cluster IP";
        }
        if (has(ipsets, KubeIpSet.EXTERNAL_IP_LOCAL.name(f), entry)) {
            return "external IP (Local traffic policy)";
        }
        if (has(ipsets, KubeIpSet.EXTERNAL_IP.name(f), entry)) {
            return "external IP";
        }
        if (has(ipsets, KubeIpSet.LOAD_BALANCER_LOCAL.name(f), entry)) {
            return "load-balancer IP (Local traffic policy)";
        }
        if (has(ipsets, KubeIpSet.LOAD_BALANCER.name(f), entry)) {
            return "load-balancer IP";
        }
        if (req.destination().isLoopbackAddress() || local.contains(req.destination())) {
            String localSet = switch (req.protocol()) {
                case TCP -> KubeIpSet.NODE_PORT_LOCAL_TCP.name(f);
                case UDP -> KubeIpSet.NODE_PORT_LOCAL_UDP.name(f);
                case SCTP -> KubeIpSet.NODE_PORT_LOCAL_SCTP.name(f);
            };
            boolean isLocal = has(ipsets, localSet, String.valueOf(req.port())) || has(ipsets, localSet, entry);
            return "node port" + (isLocal ? " (Local traffic policy)" : "");
        }
        return "unknown (in no KUBE-* set)";
    }

    private static boolean has(Map<String, Set<String>> ipsets, String set, String entry) {
        return ipsets.getOrDefault(set, Set.of()).contains(entry);
    }

    private static String masquerade(String kind, TraceRequest req, RealServer rs, IptablesDump nat,
                                     Map<String, Set<String>> ipsets) {
        String rsIp = IpAddresses.format(rs.address());
        String loop = rsIp + "," + req.protocol().lower() + ":" + rs.port() + "," + rsIp;
        if (rs.address().equals(req.source()) && has(ipsets, KubeIpSet.LOOP_BACK.name(req.family()), loop)) {
            return "masqueraded (hairpin: KUBE-LOOP-BACK)";
        }
        if (kind.contains("Local traffic policy")) {
            return "not masqueraded (Local traffic policy keeps the client address)";
        }
        if (!kind.equals("cluster IP")) {
            return kind.startsWith("unknown") ? "masquerade unknown" : "masqueraded (" + kind + ", Cluster policy)";
        }
        if (nat == null) {
            return "masquerade unknown (nat table not read)";
        }
        String setName = KubeIpSet.CLUSTER_IP.name(req.family());
        for (IptablesDump.Rule rule : nat.table("nat").chain("KUBE-SERVICES").map(IptablesDump.Chain::rules).orElse(List.of())) {
            List<String> a = rule.args();
            int set = a.indexOf(setName);
            if (set < 0 || !rule.target().equals("KUBE-MARK-MASQ") || set + 1 >= a.size()) {
                continue;
            }
            String dir = a.get(set + 1);
            int s = a.indexOf("-s");
            if (dir.equals("src,dst")) {
                continue; // only node traffic whose source is a VIP: not a client's
            }
            if (s < 0) {
                return "masqueraded (masquerade-all)";
            }
            boolean negated = s > 0 && a.get(s - 1).equals("!");
            boolean inside = Cidr.parse(a.get(s + 1)).contains(req.source());
            boolean masq = negated != inside;
            return (masq ? "masqueraded" : "not masqueraded") + " (source " + (inside ? "inside " : "outside ")
                    + a.get(s + 1) + ")";
        }
        return "not masqueraded (no KUBE-CLUSTER-IP masquerade rule)";
    }

    /** {@code ipset save} output as set -> members. */
    static Map<String, Set<String>> parseIpsetSave(String text) {
        Map<String, Set<String>> out = new java.util.HashMap<>();
        for (String line : text.split("\n")) {
            String[] w = line.strip().split("\\s+");
            if (w.length >= 3 && w[0].equals("add")) {
                out.computeIfAbsent(w[1], k -> new java.util.HashSet<>()).add(w[2].toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }
}
