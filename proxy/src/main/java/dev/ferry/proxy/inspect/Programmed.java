package dev.ferry.proxy.inspect;

import dev.ferry.core.Endpoint;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortName;
import dev.ferry.core.ServicePortState;
import dev.ferry.iptables.ChainNames;
import dev.ferry.iptables.IptablesDump;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the live node has programmed for a service port in one mode: iptables chains and rules,
 * IPVS virtual servers with their real servers, or userspace portal rules. The node is read once
 * per family (lazily) and the answers are cached for one report; a read failure is shown in the
 * report instead of the answer.
 */
final class Programmed {

    private final LiveNode node;
    private final Mode mode;
    private final Map<IpFamily, Object> dumps = new EnumMap<>(IpFamily.class); // IptablesDump or IOException
    private Object ipvs; // Map<VirtualServer, List<RealServer>> or IOException

    Programmed(LiveNode node, Mode mode) {
        this.node = node;
        this.mode = mode;
    }

    /** The families the port is served in: those of its cluster IPs. */
    static List<IpFamily> families(ServicePort port) {
        Set<IpFamily> out = new LinkedHashSet<>();
        port.clusterIPs().forEach(ip -> out.add(IpFamily.of(ip)));
        return new ArrayList<>(out);
    }

    /** One short cell: "yes (KUBE-SVC-…)", "NO: …", "unknown: …". */
    String summary(ServicePortState state) {
        List<String> parts = new ArrayList<>();
        for (IpFamily family : families(state.port())) {
            String s = switch (mode) {
                case IPTABLES -> iptablesSummary(state, family);
                case IPVS -> ipvsSummary(state, family);
                case USERSPACE -> portalSummary(state, family);
            };
            parts.add(s);
        }
        return String.join("; ", parts);
    }

    /** The rules or virtual servers of the port, indented lines, per family. */
    String details(ServicePortState state) {
        StringBuilder sb = new StringBuilder();
        for (IpFamily family : families(state.port())) {
            String what = switch (mode) {
                case IPTABLES, USERSPACE -> iptablesDetails(state, family);
                case IPVS -> ipvsDetails(state, family);
            };
            sb.append("  programmed (").append(label(family)).append(", ").append(mode.flagValue()).append("):\n");
            sb.append(what);
        }
        return sb.toString();
    }

    static String label(IpFamily family) {
        return family == IpFamily.IPV4 ? "IPv4" : "IPv6";
    }

    IptablesDump dump(IpFamily family) throws IOException {
        Object d = dumps.computeIfAbsent(family, f -> {
            try {
                return IptablesDump.parse(node.iptablesSave(f));
            } catch (IOException e) {
                return e;
            } catch (IllegalArgumentException e) {
                return new IOException("cannot parse " + (f == IpFamily.IPV4 ? "iptables-save" : "ip6tables-save")
                        + " output: " + e.getMessage(), e);
            }
        });
        if (d instanceof IOException e) {
            throw e;
        }
        return (IptablesDump) d;
    }

    @SuppressWarnings("unchecked")
    Map<VirtualServer, List<RealServer>> ipvsTable() throws IOException {
        if (ipvs == null) {
            try {
                ipvs = node.ipvsTable();
            } catch (IOException e) {
                ipvs = e;
            }
        }
        if (ipvs instanceof IOException e) {
            throw e;
        }
        return (Map<VirtualServer, List<RealServer>>) ipvs;
    }

    // ---- iptables

    private String iptablesSummary(ServicePortState state, IpFamily family) {
        IptablesDump dump;
        try {
            dump = dump(family);
        } catch (IOException e) {
            return "unknown: " + e.getMessage();
        }
        ServicePortName name = state.name();
        IptablesDump.Table nat = dump.table("nat");
        List<String> chains = new ArrayList<>();
        for (String chain : List.of(ChainNames.service(name), ChainNames.serviceLocal(name))) {
            if (nat.has(chain)) {
                chains.add(chain);
            }
        }
        String prefix = families(state.port()).size() > 1 ? label(family) + " " : "";
        if (!chains.isEmpty()) {
            return prefix + "yes (" + String.join(", ", chains) + ")";
        }
        if (!rulesFor(dump, state, family).isEmpty()) {
            return prefix + "yes (no endpoint chain: "
                    + (state.selection(family).allReachable().isEmpty() ? "no endpoints" : "rules only") + ")";
        }
        return prefix + "NO (no " + ChainNames.service(name) + " in nat)";
    }

    private String portalSummary(ServicePortState state, IpFamily family) {
        IptablesDump dump;
        try {
            dump = dump(family);
        } catch (IOException e) {
            return "unknown: " + e.getMessage();
        }
        int count = 0;
        for (List<String> rules : rulesFor(dump, state, family).values()) {
            count += rules.size();
        }
        return count > 0 ? "yes (" + count + " portal rules)" : "NO (no KUBE-PORTALS-* rule)";
    }

    private String iptablesDetails(ServicePortState state, IpFamily family) {
        IptablesDump dump;
        try {
            dump = dump(family);
        } catch (IOException e) {
            return "    cannot read: " + e.getMessage() + "\n";
        }
        Map<String, List<String>> rules = rulesFor(dump, state, family);
        if (rules.isEmpty()) {
            return "    nothing: no chain or rule of " + state.name() + "\n";
        }
        StringBuilder sb = new StringBuilder();
        rules.forEach((where, lines) -> {
            sb.append("    ").append(where).append('\n');
            lines.forEach(l -> sb.append("      ").append(l).append('\n'));
        });
        return sb.toString();
    }

    /**
     * Every rule of the port in nat and filter: the rules of its own chains (SVC, SVL, EXT, FW,
     * and SEP of each endpoint) and the rules elsewhere whose comment names it, keyed "table chain".
     */
    static Map<String, List<String>> rulesFor(IptablesDump dump, ServicePortState state, IpFamily family) {
        ServicePortName name = state.name();
        Set<String> own = new LinkedHashSet<>(List.of(ChainNames.service(name), ChainNames.serviceLocal(name),
                ChainNames.external(name), ChainNames.firewall(name)));
        for (Endpoint ep : state.endpoints()) {
            if (ep.family() == family) {
                own.add(ChainNames.endpoint(name, ep));
            }
        }
        String text = name.toString();
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String tableName : List.of("nat", "filter")) {
            IptablesDump.Table table = dump.table(tableName);
            // the port's own chains in the order a packet meets them: SVC/SVL, EXT, FW, then SEPs
            for (IptablesDump.Chain chain : table.chains().values()) {
                if (own.contains(chain.name())) {
                    continue;
                }
                for (IptablesDump.Rule rule : chain.rules()) {
                    String comment = rule.comment();
                    if (comment.equals(text) || comment.startsWith(text + " ")) {
                        out.computeIfAbsent(tableName + " " + chain.name(), k -> new ArrayList<>()).add(rule.text());
                    }
                }
            }
            for (String chainName : own) {
                table.chain(chainName).ifPresent(chain -> {
                    List<String> lines = out.computeIfAbsent(tableName + " " + chainName, k -> new ArrayList<>());
                    chain.rules().forEach(r -> lines.add(r.text()));
                });
            }
        }
        return out;
    }

    // ---- ipvs

    /** The virtual servers the port needs in a family: cluster, external and LB IPs, and the node port on any address. */
    private List<VirtualServer> wanted(Map<VirtualServer, List<RealServer>> table, ServicePort port, IpFamily family) {
        List<VirtualServer> out = new ArrayList<>();
        List<InetAddress> vips = new ArrayList<>();
        port.clusterIP(family).ifPresent(vips::add);
        port.externalIPs().stream().filter(family::contains).forEach(vips::add);
        port.loadBalancerIPs().stream().filter(family::contains).forEach(vips::add);
        for (VirtualServer vs : table.keySet()) {
            if (vs.family() != family || vs.protocol() != port.protocol()) {
                continue;
            }
            if ((vs.port() == port.port() && vips.contains(vs.address()))
                    || (port.nodePort() != 0 && vs.port() == port.nodePort())) {
                out.add(vs);
            }
        }
        return out;
    }

    private String ipvsSummary(ServicePortState state, IpFamily family) {
        Map<VirtualServer, List<RealServer>> table;
        try {
            table = ipvsTable();
        } catch (IOException e) {
            return "unknown: " + e.getMessage();
        }
        InetAddress clusterIP = state.port().clusterIP(family).orElseThrow();
        boolean hasCluster = table.keySet().stream().anyMatch(vs -> vs.protocol() == state.port().protocol()
                && vs.address().equals(clusterIP) && vs.port() == state.port().port());
        int count = wanted(table, state.port(), family).size();
        String prefix = families(state.port()).size() > 1 ? label(family) + " " : "";
        return hasCluster ? prefix + "yes (" + count + " virtual server" + (count == 1 ? "" : "s") + ")"
                : prefix + "NO (no virtual server " + state.port().protocol() + " "
                + IpAddresses.hostPort(clusterIP, state.port().port()) + ")";
    }

    private String ipvsDetails(ServicePortState state, IpFamily family) {
        Map<VirtualServer, List<RealServer>> table;
        try {
            table = ipvsTable();
        } catch (IOException e) {
            return "    cannot read the IPVS table: " + e.getMessage() + "\n";
        }
        List<VirtualServer> mine = wanted(table, state.port(), family);
        if (mine.isEmpty()) {
            return "    no IPVS virtual server of " + state.name() + "\n";
        }
        StringBuilder sb = new StringBuilder();
        for (VirtualServer vs : mine) {
            sb.append("    ").append(describe(vs)).append('\n');
            List<RealServer> reals = table.get(vs);
            if (reals.isEmpty()) {
                sb.append("      (no real servers)\n");
            }
            for (RealServer rs : reals) {
                sb.append("      -> ").append(describe(rs)).append('\n');
            }
        }
        return sb.toString();
    }

    static String describe(VirtualServer vs) {
        return vs.protocol() + " " + IpAddresses.hostPort(vs.address(), vs.port()) + " " + vs.scheduler()
                + (vs.persistenceTimeoutSeconds() > 0 ? " persistent " + vs.persistenceTimeoutSeconds() + "s" : "");
    }

    static String describe(RealServer rs) {
        return IpAddresses.hostPort(rs.address(), rs.port()) + " weight " + rs.weight() + " "
                + rs.forwardMethod().name().toLowerCase(java.util.Locale.ROOT)
                + " (active " + rs.activeConnections() + ", inactive " + rs.inactiveConnections() + ")";
    }
}
