package dev.ferry.iptables;

import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Userspace mode's iptables-restore input for one family: the five portal chains rewritten
 * whole (":CHAIN" flushes each), the jumps into them from the built-in chains when the node
 * lacks them, and optionally the removal of the iptables mode's leftovers. Pure: reads only the
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
            new JumpRule("nat", "PREROUTING", ChainNames.PORTALS_CONTAINER, PORTALS_COMMENT, List.of()),
            new JumpRule("nat", "OUTPUT", ChainNames.PORTALS_HOST, PORTALS_COMMENT, List.of()),
            new JumpRule("filter", "INPUT", ChainNames.NODEPORT_NON_LOCAL, NON_LOCAL_COMMENT, List.of()));

    /**
     * Appended when missing: a NodePort rule matches any local address, so it must come after
     * the portals (an LB IP routed locally must not be taken by another Service's NodePort).
     */
    static final List<JumpRule> APPENDED = List.of(
            new JumpRule("nat", "PREROUTING", ChainNames.NODEPORT_CONTAINER, NODEPORTS_COMMENT, DST_LOCAL),
            new JumpRule("nat", "OUTPUT", ChainNames.NODEPORT_HOST, NODEPORTS_COMMENT, DST_LOCAL));

    /** The portal chains of nat, in the order declared. */
    static final List<String> NAT_CHAINS = List.of(ChainNames.PORTALS_CONTAINER, ChainNames.PORTALS_HOST,
            ChainNames.NODEPORT_CONTAINER, ChainNames.NODEPORT_HOST);

    /**
     * @param payload  restore input (never empty: the portal chains are always declared)
     * @param lines    rule lines in it (appends, inserts, deletions)
     * @param warnings one message per portal skipped or leftover chain kept, for the caller to log
     */
    record Output(String payload, int lines, List<String> warnings) {
    }

    private PortalWriter() {
    }

    /** The userspace mode's chains (nat and filter); the iptables mode removes them. */
    static boolean isPortalChain(String chain) {
        return NAT_CHAINS.contains(chain) || chain.equals(ChainNames.NODEPORT_NON_LOCAL);
    }

    /**
     * Chains the iptables mode creates and the userspace mode does not use: removed when
     * switching modes. Not KUBE-MARK-MASQ (older kubelets share it; upstream leaves it too), not
     * kubelet's KUBE-FIREWALL / KUBE-KUBELET-CANARY / KUBE-MARK-DROP, not the portal chains.
     */
    static boolean isIptablesModeChain(String chain) {
        return ChainNames.isServiceChain(chain) || chain.equals(ChainNames.SERVICES)
                || chain.equals(ChainNames.EXTERNAL_SERVICES) || chain.equals(ChainNames.NODE_PORTS)
                || chain.equals(ChainNames.POSTROUTING) || chain.equals(ChainNames.FORWARD)
                || chain.equals(ChainNames.PROXY_FIREWALL) || chain.equals(ChainNames.CANARY);
    }

    /**
     * @param portals         in any order (written sorted by service port name, so the node's
     *                        rules do not depend on the caller's order)
     * @param hostAddress     DNAT target of the host portals, of {@code family}
     * @param existing        the node's nat and filter tables (mangle too when removing leftovers);
     *                        the rules of built-in chains are needed, of the leftover chains not
     * @param removeLeftovers also delete the iptables mode's chains and the jumps to them
     */
    static Output write(IpFamily family, List<Portal> portals, InetAddress hostAddress, IptablesDump existing,
                        boolean removeLeftovers) {
        if (!family.contains(hostAddress)) {
            throw new IllegalArgumentException("host address " + hostAddress.getHostAddress() + " is not " + family);
        }
        if (hostAddress.isLoopbackAddress() || hostAddress.isAnyLocalAddress()) {
            // Packets DNATed to loopback from another interface are dropped as martians (upstream found the same).
            throw new IllegalArgumentException("host address " + hostAddress.getHostAddress()
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
        if (removeLeftovers && existing.tableNames().contains("mangle")) {
            StringBuilder declare = new StringBuilder();
            StringBuilder rules = new StringBuilder();
            int n = CleanupPlan.removeFrom(existing.table("mangle"), PortalWriter::isIptablesModeChain,
                    declare, rules, warnings);
            if (declare.length() > 0) {
                out.append("*mangle\n").append(declare).append(rules).append("COMMIT\n");
                lines += n;
            }
        }
        lines += table(out, "filter", List.of(ChainNames.NODEPORT_NON_LOCAL), List.of(chains.nonLocal()),
                existing, removeLeftovers, warnings);
        lines += table(out, "nat", NAT_CHAINS, List.of(chains.portalsContainer(), chains.portalsHost(),
                chains.nodePortContainer(), chains.nodePortHost()), existing, removeLeftovers, warnings);
        return new Output(out.toString(), lines, List.copyOf(warnings));
    }

    /** One table: declarations, leftover removal, missing jumps, then the portal rules. */
    private static int table(StringBuilder out, String table, List<String> ourChains, List<LineBuffer> rules,
                             IptablesDump existing, boolean removeLeftovers, List<String> warnings) {
        out.append('*').append(table).append('\n');
        for (String chain : ourChains) {
            out.append(':').append(chain).append(" - [0:0]\n");
        }
        StringBuilder removals = new StringBuilder();
        int lines = 0;
        if (removeLeftovers) {
            lines += CleanupPlan.removeFrom(existing.table(table), PortalWriter::isIptablesModeChain,
                    out, removals, warnings);
        }
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
