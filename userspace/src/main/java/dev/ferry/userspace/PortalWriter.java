package dev.ferry.userspace;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.netfilter.CleanupPlan;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.JumpRule;
import dev.ferry.netfilter.LineBuffer;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * Userspace mode's iptables-restore input for one family: the five portal chains rewritten
 * whole (":CHAIN" flushes each), the jumps into them from the built-in chains when the node
 * lacks them, and optionally the removal of other modes' leftovers. Pure: reads only the
 * dump it is given.
 *
 * <p>Tables in the order mangle (leftovers only), filter, nat: iptables-restore commits table
 * by table, and with nat last a failure leaves at most the small tables changed, which
 * {@link PortalRules} can read back whole and undo.
 */
final class PortalWriter {

    static final String PORTALS_COMMENT = "handle ClusterIPs; NOTE: this must be before the NodePort rules";
    static final String NODEPORTS_COMMENT = "handle service NodePorts; NOTE: this must be the last rule in the chain";
    static final String NON_LOCAL_COMMENT = "Ensure that non-local NodePort traffic can flow";

    private static final List<String> DST_LOCAL = List.of("-m", "addrtype", "--dst-type", "LOCAL");

    /** Inserted at the top of their built-in chain when missing, as upstream prepends them. */
    static final List<JumpRule> PREPENDED = List.of(
            new JumpRule("nat", "PREROUTING", PortalChains.PORTALS_CONTAINER, PORTALS_COMMENT, List.of()),
            new JumpRule("nat", "OUTPUT", PortalChains.PORTALS_HOST, PORTALS_COMMENT, List.of()),
            new JumpRule("filter", "INPUT", PortalChains.NODEPORT_NON_LOCAL, NON_LOCAL_COMMENT, List.of()));

    /**
     * Appended when missing: a NodePort rule matches any local address, so it must come after
     * the portals (an LB IP routed locally must not be taken by another Service's NodePort).
     */
    static final List<JumpRule> APPENDED = List.of(
            new JumpRule("nat", "PREROUTING", PortalChains.NODEPORT_CONTAINER, NODEPORTS_COMMENT, DST_LOCAL),
            new JumpRule("nat", "OUTPUT", PortalChains.NODEPORT_HOST, NODEPORTS_COMMENT, DST_LOCAL));

    /**
     * @param payload  restore input (never empty: the portal chains are always declared)
     * @param lines    rule lines in it (appends, inserts, deletions)
     * @param warnings one message per portal skipped or leftover chain kept, for the caller to log
     */
    record Output(String payload, int lines, List<String> warnings) {
    }

    private PortalWriter() {
    }

    /**
     * @param portals         in any order (written sorted by service port name, so the node's
     *                        rules do not depend on the caller's order)
     * @param hostAddress     DNAT target of the host portals, of {@code family}
     * @param existing        the node's nat and filter tables (mangle too when removing leftovers);
     *                        the rules of built-in chains are needed, of the leftover chains not
     * @param leftovers       other modes' chains to delete, with the jumps to them (matches nothing:
     *                        nothing is removed)
     */
    static Output write(IpFamily family, List<Portal> portals, InetAddress hostAddress, IptablesDump existing,
                        Predicate<String> leftovers) {
        if (!family.contains(hostAddress)) {
            throw new IllegalArgumentException("host address " + IpAddresses.format(hostAddress) + " is not " + family);
        }
        if (hostAddress.isLoopbackAddress() || hostAddress.isAnyLocalAddress()) {
            // Packets DNATed to loopback from another interface are dropped as martians (upstream found the same).
            throw new IllegalArgumentException("host address " + IpAddresses.format(hostAddress)
                    + " cannot be a DNAT target: use one of the node's non-loopback addresses");
        }
        List<Portal> sorted = new ArrayList<>(portals);
        sorted.sort(Comparator.comparing(p -> p.port().name(), ProxySnapshot.ORDER));
        PortalPortRules.Chains chains = new PortalPortRules.Chains(new LineBuffer(), new LineBuffer(),
                new LineBuffer(), new LineBuffer(), new LineBuffer());
        List<String> warnings = new ArrayList<>();
        for (Portal portal : sorted) {
            String skipped = PortalPortRules.write(family, portal, hostAddress, chains);
            if (skipped != null) {
                warnings.add(skipped);
            }
        }

        StringBuilder out = new StringBuilder(256 + 200 * sorted.size());
        int lines = 0;
        if (existing.tableNames().contains("mangle")) {
            StringBuilder declare = new StringBuilder();
            StringBuilder rules = new StringBuilder();
            int n = CleanupPlan.removeFrom(existing.table("mangle"), leftovers,
                    declare, rules, warnings);
            if (declare.length() > 0) {
                out.append("*mangle\n").append(declare).append(rules).append("COMMIT\n");
                lines += n;
            }
        }
        lines += table(out, "filter", List.of(PortalChains.NODEPORT_NON_LOCAL), List.of(chains.nonLocal()),
                existing, leftovers, warnings);
        lines += table(out, "nat", PortalChains.NAT, List.of(chains.portalsContainer(), chains.portalsHost(),
                chains.nodePortContainer(), chains.nodePortHost()), existing, leftovers, warnings);
        return new Output(out.toString(), lines, List.copyOf(warnings));
    }

    /** One table: declarations, leftover removal, missing jumps, then the portal rules. */
    private static int table(StringBuilder out, String table, List<String> ourChains, List<LineBuffer> rules,
                             IptablesDump existing, Predicate<String> leftovers, List<String> warnings) {
        out.append('*').append(table).append('\n');
        for (String chain : ourChains) {
            out.append(':').append(chain).append(" - [0:0]\n");
        }
        StringBuilder removals = new StringBuilder();
        int lines = 0;
        lines += CleanupPlan.removeFrom(existing.table(table), leftovers, out, removals, warnings);
        out.append(removals);
        for (JumpRule jump : PREPENDED) {
            lines += jump(out, table, jump, "-I", existing);
        }
        for (JumpRule jump : APPENDED) {
            lines += jump(out, table, jump, "-A", existing);
        }
        for (LineBuffer b : rules) {
            out.append(b.text());
            lines += b.lines();
        }
        out.append("COMMIT\n");
        return lines;
    }

    private static int jump(StringBuilder out, String table, JumpRule jump, String op, IptablesDump existing) {
        if (!jump.table().equals(table) || jump.presentIn(existing)) {
            return 0;
        }
        out.append(jump.line(op)).append('\n');
        return 1;
    }
}
