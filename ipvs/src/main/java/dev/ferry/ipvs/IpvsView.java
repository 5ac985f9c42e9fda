package dev.ferry.ipvs;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortState;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;
import dev.ferry.mode.inspect.TraceRequest;
import dev.ferry.netfilter.IptablesDump;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * ipvs mode on the live node: its virtual servers and real servers, and which one a packet meets
 * ({@link IpvsTrace}). The table is read once per report (a trace reads it afresh); a failed read is
 * shown instead.
 */
final class IpvsView implements ModeView {

    private final LiveNode node;
    private final LiveIpvs ipvs;
    private Object table; // Map<VirtualServer, List<RealServer>> or IOException

    IpvsView(LiveNode node, LiveIpvs ipvs) {
        this.node = node;
        this.ipvs = ipvs;
    }

    @Override
    public Optional<Evidence> detect() throws IOException {
        if (node.hasLink(DummyLink.NAME)) {
            return Optional.of(Evidence.definite("link " + DummyLink.NAME + " exists"));
        }
        if (ipvs.available() && !ipvs.table().isEmpty()) {
            return Optional.of(Evidence.definite("the IPVS table has services"));
        }
        return Optional.empty();
    }

    @Override
    public String lookedFor() {
        return "no " + DummyLink.NAME + ", no IPVS service";
    }

    @SuppressWarnings("unchecked")
    private Map<VirtualServer, List<RealServer>> table() throws IOException {
        if (table == null) {
            try {
                table = ipvs.table();
            } catch (IOException e) {
                table = e;
            }
        }
        if (table instanceof IOException e) {
            throw e;
        }
        return (Map<VirtualServer, List<RealServer>>) table;
    }

    @Override
    public String summary(ServicePortState state, IpFamily family) {
        Map<VirtualServer, List<RealServer>> t;
        try {
            t = table();
        } catch (IOException e) {
            return "unknown: " + e.getMessage();
        }
        ServicePort port = state.port();
        InetAddress clusterIP = port.clusterIP(family).orElseThrow();
        boolean hasCluster = t.keySet().stream().anyMatch(vs -> vs.protocol() == port.protocol()
                && vs.address().equals(clusterIP) && vs.port() == port.port());
        int count = wanted(t, port, family).size();
        return hasCluster ? "yes (" + count + " virtual server" + (count == 1 ? "" : "s") + ")"
                : "NO (no virtual server " + port.protocol() + " " + IpAddresses.hostPort(clusterIP, port.port()) + ")";
    }

    @Override
    public String details(ServicePortState state, IpFamily family) {
        Map<VirtualServer, List<RealServer>> t;
        try {
            t = table();
        } catch (IOException e) {
            return "    cannot read the IPVS table: " + e.getMessage() + "\n";
        }
        List<VirtualServer> mine = wanted(t, state.port(), family);
        if (mine.isEmpty()) {
            return "    no IPVS virtual server of " + state.name() + "\n";
        }
        StringBuilder sb = new StringBuilder();
        for (VirtualServer vs : mine) {
            sb.append("    ").append(describe(vs)).append('\n');
            List<RealServer> reals = t.get(vs);
            if (reals.isEmpty()) {
                sb.append("      (no real servers)\n");
            }
            for (RealServer rs : reals) {
                sb.append("      -> ").append(describe(rs)).append('\n');
            }
        }
        return sb.toString();
    }

    @Override
    public String trace(TraceRequest request, long masqueradeMark, PrintStream warnings) throws IOException {
        IptablesDump nat = null;
        try {
            nat = IptablesDump.parse(node.iptablesSave(request.family()));
        } catch (IOException | IllegalArgumentException e) {
            warnings.println("warning: cannot read the nat table, masquerade unknown: " + e.getMessage());
        }
        Map<String, Set<String>> sets = Map.of();
        try {
            sets = IpvsTrace.parseIpsetSave(ipvs.ipsetSave());
        } catch (IOException e) {
            warnings.println("warning: cannot read the ipsets: " + e.getMessage());
        }
        return IpvsTrace.render(request, ipvs.table(), nat, sets, node.localAddresses());
    }

    /** The virtual servers the port needs in a family: cluster, external and LB IPs, and the node port on any address. */
    private static List<VirtualServer> wanted(Map<VirtualServer, List<RealServer>> table, ServicePort port,
                                              IpFamily family) {
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

    static String describe(VirtualServer vs) {
        return vs.protocol() + " " + IpAddresses.hostPort(vs.address(), vs.port()) + " " + vs.scheduler()
                + (vs.persistenceTimeoutSeconds() > 0 ? " persistent " + vs.persistenceTimeoutSeconds() + "s" : "");
    }

    static String describe(RealServer rs) {
        return IpAddresses.hostPort(rs.address(), rs.port()) + " weight " + rs.weight() + " "
                + rs.forwardMethod().name().toLowerCase(Locale.ROOT)
                + " (active " + rs.activeConnections() + ", inactive " + rs.inactiveConnections() + ")";
    }
}
