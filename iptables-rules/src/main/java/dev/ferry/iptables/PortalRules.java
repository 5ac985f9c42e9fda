package dev.ferry.iptables;

import dev.ferry.core.IpFamily;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

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
public final class PortalRules {

    private static final Logger LOG = LoggerFactory.getLogger(PortalRules.class);

    private final IpFamily family;
    private final CommandRunner runner;
    /** The iptables mode's leftovers are removed by the first apply that succeeds. */
    private boolean leftoversRemoved;
    private List<String> warnings = List.of();

    /** @param runner runs iptables-save / iptables-restore (ip6tables-* for IPv6) */
    public PortalRules(IpFamily family, CommandRunner runner) {
        this.family = Objects.requireNonNull(family, "family");
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    public IpFamily family() {
        return family;
    }

    /**
     * Makes the portal chains hold exactly these portals (host portals DNAT to
     * {@code hostAddress}) and the built-in chains jump to them; the first successful apply
     * also removes the iptables mode's chains and jumps (never anything not ours). A portal that
     * cannot be programmed (SCTP) is left out and named in {@link #warnings()}.
     *
     * @param hostAddress the node's address of this family that host portals DNAT to
     * @return the number of rule lines written
     * @throws IOException with iptables-restore's message when the rules could not be applied
     *                     (nothing changed then), or when an argument is unusable
     */
    public int apply(List<Portal> portals, InetAddress hostAddress) throws IOException {
        try {
            Objects.requireNonNull(portals, "portals");
            Objects.requireNonNull(hostAddress, "hostAddress");
            boolean removeLeftovers = !leftoversRemoved;
            IptablesDump before = removeLeftovers ? save("mangle", "filter", "nat") : save("filter", "nat");
            PortalWriter.Output out = PortalWriter.write(family, portals, hostAddress, before, removeLeftovers);
            warnings = out.warnings();
            String error = restore(out.payload());
            if (error != null) {
                throw new IOException(error + undo(before, removeLeftovers));
            }
            if (removeLeftovers) {
                leftoversRemoved = true;
                List<String> removed = leftoverChains(before);
                if (!removed.isEmpty()) {
                    LOG.info("{}: removed the iptables mode's chains and the jumps to them: {}", family,
                            removed.size() <= 10 ? removed : removed.size() + " chains");
                }
            }
            return out.lines();
        } catch (RuntimeException e) {
            throw new IOException(family + " portals not applied: " + e, e);
        }
    }

    /** What the last apply left out (skipped portals, leftover chains kept), one message each. */
    public List<String> warnings() {
        return warnings;
    }

    private static List<String> leftoverChains(IptablesDump dump) {
        List<String> out = new ArrayList<>();
        for (String table : dump.tableNames()) {
            for (String chain : dump.table(table).chains().keySet()) {
                if (PortalWriter.isIptablesModeChain(chain)) {
                    out.add(table + "/" + chain);
                }
            }
        }
        return out;
    }

    /**
     * The tables, streamed; the rules of the iptables mode's nat chains are skipped (a big
     * cluster's leftover nat table is tens of megabytes and only its chain names matter).
     */
    private IptablesDump save(String... tables) throws IOException {
        IptablesDump.LeanReader reader = new IptablesDump.LeanReader(
                (table, chain) -> !(table.equals("nat") && PortalWriter.isIptablesModeChain(chain)));
        String save = family == IpFamily.IPV4 ? "iptables-save" : "ip6tables-save";
        for (String table : tables) {
            CommandRunner.Result r = runner.runReading(List.of(save, "-t", table), reader::read);
            if (!r.ok()) {
                throw new IOException(save + " -t " + table + " exited " + r.exitCode() + ": " + r.stderr().strip());
            }
        }
        return reader.result();
    }

    /** null on success, else what iptables-restore said, with the lines it points at. */
    private String restore(String payload) throws IOException {
        String restore = family == IpFamily.IPV4 ? "iptables-restore" : "ip6tables-restore";
        List<String> argv = new ArrayList<>();
        argv.add(restore);
        argv.addAll(IptablesBackend.RESTORE_FLAGS);
        CommandRunner.Result r = runner.run(argv, payload.getBytes(StandardCharsets.UTF_8));
        if (r.ok()) {
            return null;
        }
        return restore + " exited " + r.exitCode() + ": " + r.stderr().strip()
                + RestoreErrors.failingLines(r.stderr(), payload);
    }

    /** Reads the tables committed before nat back and puts their KUBE-* state back as it was. */
    private String undo(IptablesDump before, boolean withMangle) {
        String[] tables = withMangle ? new String[]{"mangle", "filter"} : new String[]{"filter"};
        try {
            IptablesDump now = save(tables);
            StringBuilder payload = new StringBuilder();
            for (String table : tables) {
                payload.append(PortalUndo.of(before, now, table));
            }
            if (payload.isEmpty()) {
                return "";
            }
            String error = restore(payload.toString());
            return error == null ? " (" + String.join(" and ", tables) + " rolled back)"
                    : " (roll-back failed too: " + error + ")";
        } catch (IOException | RuntimeException e) {
            return " (roll-back failed: " + e.getMessage() + ")";
        }
    }
}
