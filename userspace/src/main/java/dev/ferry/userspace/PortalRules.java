package dev.ferry.userspace;

import dev.ferry.core.IpFamily;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.Iptables;
import dev.ferry.netfilter.IptablesDump;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Userspace mode's iptables rules for one IP family: the portal chains hold exactly the given
 * portals after each {@link #apply}, with one iptables-restore --noflush. The node's tables are
 * read (iptables-save) on every apply, so a jump someone deleted comes back and none is ever
 * duplicated; portal tables are a few rules per Service, so this stays cheap.
 *
 * <p>Threads: not thread-safe; the sync thread calls {@link #apply} and {@link #warnings}.
 * On failure an IOException carries iptables-restore's complaint, and the node's rules are as
 * they were: nat is restored last and atomically, and a filter (or mangle) part already
 * committed is read back and undone.
 */
final class PortalRules {

    private static final Logger LOG = LoggerFactory.getLogger(PortalRules.class);

    private final IpFamily family;
    private final Iptables iptables;
    private final Predicate<String> leftovers;
    /** Other modes' leftovers are removed by the first apply that succeeds. */
    private boolean leftoversRemoved;

    /**
     * What one apply did.
     *
     * @param lines    rule lines written
     * @param warnings what it left out (skipped portals, leftover chains kept), one message each
     */
    record Applied(int lines, List<String> warnings) {
        Applied {
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * @param runner    runs iptables-save / iptables-restore (ip6tables-* for IPv6)
     * @param leftovers other modes' chains, removed (with the jumps to them) by the first apply
     */
    PortalRules(IpFamily family, CommandRunner runner, Predicate<String> leftovers) {
        this.family = Objects.requireNonNull(family, "family");
        this.iptables = new Iptables(family, runner);
        this.leftovers = Objects.requireNonNull(leftovers, "leftovers");
    }

    IpFamily family() {
        return family;
    }

    /**
     * Makes the portal chains hold exactly these portals (host portals DNAT to
     * {@code hostAddress}) and the built-in chains jump to them; the first successful apply
     * also removes the other modes' chains and the jumps to them (never anything not ours). A portal
     * that cannot be programmed (SCTP) is left out and named in the result's warnings.
     *
     * @param hostAddress the node's address of this family that host portals DNAT to
     * @return the rule lines written, and what was left out
     * @throws IOException with iptables-restore's message when the rules could not be applied
     *                     (nothing changed then), or when an argument is unusable
     */
    Applied apply(List<Portal> portals, InetAddress hostAddress) throws IOException {
        try {
            Objects.requireNonNull(portals, "portals");
            Objects.requireNonNull(hostAddress, "hostAddress");
            boolean removeLeftovers = !leftoversRemoved;
            IptablesDump before = removeLeftovers ? save("mangle", "filter", "nat") : save("filter", "nat");
            PortalWriter.Output out = PortalWriter.write(family, portals, hostAddress, before,
                    removeLeftovers ? leftovers : chain -> false);
            try {
                iptables.restore(out.payload());
            } catch (Iptables.RestoreException e) {
                throw new IOException(e.getMessage() + undo(before, removeLeftovers), e);
            }
            if (removeLeftovers) {
                leftoversRemoved = true;
                List<String> removed = leftoverChains(before);
                if (!removed.isEmpty()) {
                    LOG.info("{}: removed the other modes' chains and the jumps to them: {}", family,
                            removed.size() <= 10 ? removed : removed.size() + " chains");
                }
            }
            return new Applied(out.lines(), out.warnings());
        } catch (RuntimeException e) {
            throw new IOException(family + " portals not applied: " + e, e);
        }
    }

    private List<String> leftoverChains(IptablesDump dump) {
        List<String> out = new ArrayList<>();
        for (String table : dump.tableNames()) {
            for (String chain : dump.table(table).chains().keySet()) {
                if (leftovers.test(chain)) {
                    out.add(table + "/" + chain);
                }
            }
        }
        return out;
    }

    /**
     * The tables, streamed; the rules of the other modes' nat chains are skipped (a big
     * cluster's leftover nat table is tens of megabytes and only its chain names matter).
     */
    private IptablesDump save(String... tables) throws IOException {
        return iptables.save((table, chain) -> !(table.equals("nat") && leftovers.test(chain)), tables);
    }

    /** Reads the tables committed before nat back and puts their KUBE-* state back as it was. */
    private String undo(IptablesDump before, boolean withMangle) {
        String[] tables = withMangle ? new String[]{"mangle", "filter"} : new String[]{"filter"};
        try {
            IptablesDump now = save(tables);
            StringBuilder payload = new StringBuilder();
            for (String table : tables) {
                payload.append(Iptables.undo(before, now, table));
            }
            if (payload.isEmpty()) {
                return "";
            }
            try {
                iptables.restore(payload.toString());
            } catch (Iptables.RestoreException e) {
                return " (roll-back failed too: " + e.getMessage() + ")";
            }
            return " (" + String.join(" and ", tables) + " rolled back)";
        } catch (IOException | RuntimeException e) {
            return " (roll-back failed: " + e.getMessage() + ")";
        }
    }
}
