package dev.ferry.proxy.inspect;

import dev.ferry.core.Endpoint;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePort;
import dev.ferry.core.ServicePortState;
import dev.ferry.mode.inspect.Columns;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;
import dev.ferry.nativeio.ctnetlink.ConntrackTuple;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The text of {@code inspect conntrack NS/NAME}: the flows whose original destination is one of
 * a service port's addresses (cluster, external and load-balancer IPs with the port, or a node
 * address with the node port), each with the endpoint the reply comes from. A flow whose
 * endpoint is no longer one the port uses is marked STALE: traffic on it goes to a gone endpoint
 * until conntrack forgets it.
 */
final class ConntrackReport {

    /** IPS_ASSURED: the kernel saw traffic both ways and keeps the flow under pressure. */
    private static final long IPS_ASSURED = 1 << 2;

    private ConntrackReport() {
    }

    static String render(List<ServicePortState> ports, IpFamily family, List<ConntrackFlow> flows,
                         List<InetAddress> nodeAddresses) {
        StringBuilder sb = new StringBuilder();
        for (ServicePortState state : ports) {
            if (state.port().clusterIP(family).isEmpty()) {
                continue;
            }
            List<ConntrackFlow> mine = new ArrayList<>();
            for (ConntrackFlow f : flows) {
                if (belongs(state.port(), f, nodeAddresses)) {
                    mine.add(f);
                }
            }
            Set<String> current = new HashSet<>();
            for (Endpoint ep : state.selection(family).allReachable()) {
                current.add(ep.hostPort());
            }
            sb.append(state.name()).append(' ').append(state.port().protocol()).append(" (")
                    .append(family.label()).append("): ").append(mine.size())
                    .append(mine.size() == 1 ? " flow" : " flows").append('\n');
            Columns c = new Columns();
            int stale = 0;
            for (ConntrackFlow f : mine) {
                ConntrackTuple o = f.original();
                ConntrackTuple r = f.reply();
                String endpoint = IpAddresses.hostPort(r.source(), r.sourcePort());
                boolean dnat = !(r.source().equals(o.destination()) && r.sourcePort() == o.destinationPort());
                String note;
                if (!dnat) {
                    note = "not DNATed (no endpoint chosen)";
                } else if (current.contains(endpoint)) {
                    note = "";
                } else {
                    note = "STALE: " + endpoint + " is not a current endpoint";
                    stale++;
                }
                if (dnat && !r.destination().equals(o.source())) {
                    note = (note.isEmpty() ? "" : note + "; ") + "masqueraded as " + IpAddresses.format(r.destination());
                }
                c.row(protocolName(o.protocol()), IpAddresses.hostPort(o.source(), o.sourcePort()) + " -> "
                                + IpAddresses.hostPort(o.destination(), o.destinationPort()),
                        "=> " + endpoint, state(f), "timeout " + f.timeout() + "s", note);
            }
            sb.append(c.render("  "));
            if (stale > 0) {
                sb.append("  ").append(stale).append(" stale flow").append(stale == 1 ? "" : "s")
                        .append(" (conntrack -D can remove them)\n");
            }
        }
        return sb.toString();
    }

    static boolean belongs(ServicePort port, ConntrackFlow f, List<InetAddress> nodeAddresses) {
        ConntrackTuple o = f.original();
        if (o.protocol() != protocolNumber(port.protocol())) {
            return false;
        }
        InetAddress dst = o.destination();
        if (o.destinationPort() == port.port()
                && (port.clusterIPs().contains(dst) || port.externalIPs().contains(dst) || port.loadBalancerIPs().contains(dst))) {
            return true;
        }
        return port.nodePort() != 0 && o.destinationPort() == port.nodePort()
                && (dst.isLoopbackAddress() || nodeAddresses.contains(dst));
    }

    static int protocolNumber(Protocol p) {
        return switch (p) {
            case TCP -> ConntrackTuple.IPPROTO_TCP;
            case UDP -> ConntrackTuple.IPPROTO_UDP;
            case SCTP -> ConntrackTuple.IPPROTO_SCTP;
        };
    }

    private static String protocolName(int number) {
        return switch (number) {
            case ConntrackTuple.IPPROTO_TCP -> "tcp";
            case ConntrackTuple.IPPROTO_UDP -> "udp";
            case ConntrackTuple.IPPROTO_SCTP -> "sctp";
            default -> "proto " + number;
        };
    }

    /** What the status bits say (the TCP state machine's state is not in our ctnetlink decoding). */
    private static String state(ConntrackFlow f) {
        if ((f.status() & ConntrackFlow.IPS_SEEN_REPLY) == 0) {
            return "[UNREPLIED]";
        }
        return (f.status() & IPS_ASSURED) != 0 ? "[ASSURED]" : "[REPLIED]";
    }
}
