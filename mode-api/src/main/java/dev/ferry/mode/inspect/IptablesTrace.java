package dev.ferry.mode.inspect;

import dev.ferry.netfilter.IptablesDump;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code trace} in iptables (and userspace) mode: the packet through the live nat and filter
 * rules by the {@link PacketTracer}, every random branch followed, printed chain
 * by chain: the path all outcomes share, then each outcome's own rest, then the endpoints the
 * packet can reach with their probability and whether it is masqueraded.
 *
 * <p>Interfaces: the tracer does not model {@code -i}/{@code -o}, so they are settled here
 * ({@link Interfaces}): the in-interface is given or the route back to the source; the
 * out-interface is the route to where the packet goes after DNAT, so the trace runs once per
 * distinct destination and keeps the outcomes that went there.
 */
final class IptablesTrace {

    private IptablesTrace() {
    }

    /**
     * @param routeInterface the interface the node routes an address through (null when unknown)
     */
    static String render(TraceRequest req, IptablesDump dump, List<InetAddress> localAddresses, long masqueradeMark,
                         Function<InetAddress, String> routeInterface) {
        boolean fromNode = req.source().isLoopbackAddress() || localAddresses.contains(req.source());
        PacketTracer.Origin origin = fromNode ? PacketTracer.Origin.LOCAL : PacketTracer.Origin.EXTERNAL;
        String in = fromNode ? null : req.inInterface() != null ? req.inInterface() : routeInterface.apply(req.source());
        PacketTracer.Packet packet = new PacketTracer.Packet(req.family(), req.protocol(), req.source(),
                req.destination(), req.port(), origin);

        List<PacketTracer.Outcome> outcomes = trace(dump, in, routeInterface.apply(req.destination()), packet,
                localAddresses, masqueradeMark, null);
        // again for each DNAT destination, with the out-interface of the route to it
        Map<String, InetAddress> destinations = new LinkedHashMap<>();
        for (PacketTracer.Outcome o : outcomes) {
            if (!o.dnatDestination().isEmpty()) {
                destinations.putIfAbsent(o.dnatDestination(), hostOf(o.dnatDestination()));
            }
        }
        if (!destinations.isEmpty()) {
            List<PacketTracer.Outcome> all = new ArrayList<>();
            for (PacketTracer.Outcome o : outcomes) {
                if (o.dnatDestination().isEmpty()) {
                    all.add(o);
                }
            }
            destinations.forEach((hostPort, ip) -> all.addAll(trace(dump, in, routeInterface.apply(ip), packet,
                    localAddresses, masqueradeMark, hostPort)));
            outcomes = all;
        }

        StringBuilder sb = new StringBuilder();
        sb.append("trace ").append(req.describe()).append(": ")
                .append(fromNode ? "sent by the node itself (nat OUTPUT)" : "from another host (nat PREROUTING)"
                        + (in == null ? ", in-interface unknown" : ", arriving on " + in)).append('\n');
        String service = servicePort(outcomes);
        if (service != null) {
            sb.append("service port: ").append(service).append('\n');
        }
        List<String> shared = sharedPrefix(outcomes);
        int tail = outcomes.size() > 1 ? sharedSuffix(outcomes, shared.size()) : 0;
        sb.append("\npath").append(outcomes.size() > 1 ? " (shared by every outcome)" : "").append(":\n");
        appendRules(sb, shared, "  ");
        if (outcomes.size() > 1) {
            int n = 1;
            for (PacketTracer.Outcome o : outcomes) {
                sb.append("\noutcome ").append(n++).append(": ").append(fate(o)).append(", probability ")
                        .append(Probabilities.format(o.probability())).append('\n');
                appendRules(sb, o.path().subList(shared.size(), o.path().size() - tail), "  ");
            }
            if (tail > 0) {
                List<String> last = outcomes.get(0).path();
                sb.append("\nthen, in every outcome:\n");
                appendRules(sb, last.subList(last.size() - tail, last.size()), "  ");
            }
        }
        sb.append('\n').append(summary(outcomes));
        return sb.toString();
    }

    private static List<PacketTracer.Outcome> trace(IptablesDump dump, String in, String out, PacketTracer.Packet packet,
                                                    List<InetAddress> local, long mark, String keepDestination) {
        Interfaces.Settled settled = Interfaces.settle(dump, in, out);
        PacketTracer tracer = new PacketTracer(settled.dump(), local, mark);
        List<PacketTracer.Outcome> result = new ArrayList<>();
        for (PacketTracer.Outcome o : tracer.trace(packet)) {
            if (keepDestination == null || keepDestination.equals(o.dnatDestination())) {
                List<String> path = o.path().stream().map(settled::original).toList();
                result.add(new PacketTracer.Outcome(o.probability(), o.verdict(), o.dnatDestination(),
                        o.masqueradeMarked(), o.masqueraded(), path, o.problem()));
            }
        }
        return result;
    }

    private static InetAddress hostOf(String hostPort) {
        String host = hostPort.startsWith("[") ? hostPort.substring(1, hostPort.indexOf(']'))
                : hostPort.substring(0, hostPort.lastIndexOf(':'));
        return dev.ferry.core.IpAddresses.parse(host);
    }

    /** "table CHAIN" then the rule, one per line; the tracer's entries are "table: -A CHAIN ...". */
    private static void appendRules(StringBuilder sb, List<String> path, String indent) {
        Columns c = new Columns();
        for (String step : path) {
            int colon = step.indexOf(": ");
            String table = step.substring(0, colon);
            String rule = step.substring(colon + 2);
            String[] words = rule.split(" ", 3);
            c.row(table + " " + words[1], rule);
        }
        if (c.isEmpty()) {
            sb.append(indent).append("(no rule matched)\n");
        } else {
            sb.append(c.render(indent));
        }
    }

    private static List<String> sharedPrefix(List<PacketTracer.Outcome> outcomes) {
        if (outcomes.isEmpty()) {
            return List.of();
        }
        List<String> first = outcomes.get(0).path();
        int n = first.size();
        for (PacketTracer.Outcome o : outcomes) {
            int i = 0;
            while (i < n && i < o.path().size() && o.path().get(i).equals(first.get(i))) {
                i++;
            }
            n = i;
        }
        return first.subList(0, n);
    }

    /**
     * Which service port the packet was matched to, from the comment of the first rule that jumps
     * to a Service chain (e.g. "default/web:http cluster IP"); null when none did.
     */
    private static String servicePort(List<PacketTracer.Outcome> outcomes) {
        for (PacketTracer.Outcome o : outcomes) {
            for (String step : o.path()) {
                java.util.regex.Matcher jump = JUMP.matcher(step);
                java.util.regex.Matcher comment = COMMENT.matcher(step);
                if (!jump.find() || !comment.find()) {
                    continue;
                }
                // iptables-save quotes a comment with spaces; these never hold quotes or backslashes
                String c = comment.group(1).startsWith("\"") ? comment.group(1).substring(1, comment.group(1).length() - 1)
                        : comment.group(1);
                for (String kind : List.of(" cluster IP", " external IP", " loadbalancer IP")) {
                    if (c.endsWith(kind)) {
                        return c.substring(0, c.length() - kind.length()) + " (" + kind.strip() + ")";
                    }
                }
                return c + (step.contains(" -A KUBE-NODEPORTS ") ? " (node port)" : "");
            }
        }
        return null;
    }

    private static final java.util.regex.Pattern JUMP = java.util.regex.Pattern.compile(" -j KUBE-(SVC|SVL|EXT|FW)-");
    private static final java.util.regex.Pattern COMMENT = java.util.regex.Pattern.compile("--comment (\"[^\"]*\"|\\S+)");

    /** How many last steps every outcome has in common after the shared prefix. */
    private static int sharedSuffix(List<PacketTracer.Outcome> outcomes, int prefix) {
        int n = Integer.MAX_VALUE;
        List<String> first = outcomes.get(0).path();
        for (PacketTracer.Outcome o : outcomes) {
            List<String> p = o.path();
            int i = 0;
            while (i < p.size() - prefix && i < first.size() - prefix
                    && p.get(p.size() - 1 - i).equals(first.get(first.size() - 1 - i))) {
                i++;
            }
            n = Math.min(n, i);
        }
        // an outcome must keep at least the rule that decided it (its DNAT)
        for (PacketTracer.Outcome o : outcomes) {
            n = Math.min(n, Math.max(0, o.path().size() - prefix - 1));
        }
        return n;
    }

    private static String fate(PacketTracer.Outcome o) {
        return switch (o.verdict()) {
            case ACCEPT -> o.dnatDestination().isEmpty() ? "accepted, not DNATed" + (masqueraded(o) ? ", masqueraded" : "")
                    : "DNAT to " + o.dnatDestination()
                    + (masqueraded(o) ? ", masqueraded" : ", not masqueraded");
            case DROP -> "DROP";
            case REJECT -> "REJECT";
            case UNKNOWN -> redirectPort(o) != null
                    ? "REDIRECT to port " + redirectPort(o) + " on this node (userspace mode: the proxy accepts it there"
                    + " and connects to an endpoint, round robin)"
                    : "trace stopped: " + o.problem()
                    + (o.dnatDestination().isEmpty() ? "" : " (already DNATed to " + o.dnatDestination() + ")");
        };
    }

    /** The --to-ports of a REDIRECT the trace stopped at (userspace portals), else null. */
    private static String redirectPort(PacketTracer.Outcome o) {
        if (o.verdict() != PacketTracer.Verdict.UNKNOWN || o.path().isEmpty()
                || !o.problem().startsWith("target REDIRECT is not modelled")) {
            return null;
        }
        String last = o.path().get(o.path().size() - 1);
        int at = last.indexOf("--to-ports ");
        return at < 0 ? "?" : last.substring(at + "--to-ports ".length()).split(" ")[0];
    }

    private static boolean masqueraded(PacketTracer.Outcome o) {
        return o.masqueraded(); // the mark alone does not masquerade: a locally delivered packet skips POSTROUTING
    }

    /** Endpoints with summed probabilities, then the other fates. */
    private static String summary(List<PacketTracer.Outcome> outcomes) {
        Map<String, double[]> byFate = new LinkedHashMap<>();
        for (PacketTracer.Outcome o : outcomes) {
            String key = o.verdict() == PacketTracer.Verdict.ACCEPT && !o.dnatDestination().isEmpty()
                    ? o.dnatDestination() + "\t" + (masqueraded(o) ? "masqueraded" : "not masqueraded")
                    : fate(o) + "\t";
            byFate.computeIfAbsent(key, k -> new double[1])[0] += o.probability();
        }
        Columns endpoints = new Columns();
        Columns other = new Columns();
        byFate.forEach((key, p) -> {
            String[] parts = key.split("\t", -1);
            if (parts[1].isEmpty()) {
                other.row(parts[0], Probabilities.format(p[0]));
            } else {
                endpoints.row(parts[0], Probabilities.format(p[0]), parts[1]);
            }
        });
        StringBuilder sb = new StringBuilder();
        sb.append("endpoints reachable:").append(endpoints.isEmpty() ? " none\n" : "\n").append(endpoints.render("  "));
        if (!other.isEmpty()) {
            sb.append("other outcomes:\n").append(other.render("  "));
        }
        return sb.toString();
    }
}
