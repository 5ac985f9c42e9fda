package dev.ferry.proxy.modes;

import dev.ferry.mode.ProxyMode;
import dev.ferry.nftables.KubeProxyTables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an upstream kube-proxy mode that no registered mode implements leaves on a node, removed as
 * upstream's modes remove each other's leftovers (cmd/kube-proxy platformCleanup): when any mode
 * starts, before its first sync, and by --cleanup. Today that is upstream nftables mode's
 * {@code ip}/{@code ip6 kube-proxy} tables, which keep sending Service traffic to old endpoints after
 * an image swap. Once a mode named nftables is registered, its own removeLeftovers and cleanup own
 * those tables and this hook stands aside.
 *
 * <p>Runs on the caller's thread (Main, before the daemon starts); never throws: a failure is a
 * warning, never fatal.
 */
public final class UnregisteredModeLeftovers {

    private static final Logger LOG = LoggerFactory.getLogger(UnregisteredModeLeftovers.class);

    static final String NFTABLES = "nftables";

    private final boolean nftablesTables;

    private UnregisteredModeLeftovers(boolean nftablesTables) {
        this.nftablesTables = nftablesTables;
    }

    /** The leftovers of the upstream modes {@code modes} lacks. */
    public static UnregisteredModeLeftovers of(ProxyModes modes) {
        return new UnregisteredModeLeftovers(modes.all().stream().map(ProxyMode::name).noneMatch(NFTABLES::equals));
    }

    /**
     * Removes them; in a dry run, logs what a real run would remove and touches nothing (reading the
     * node's nf_tables needs CAP_NET_ADMIN, which a dry run does not have).
     *
     * @return false when something may be left (each failure was logged as a warning)
     */
    public boolean remove(boolean dryRun) {
        if (!nftablesTables) {
            return true;
        }
        if (dryRun) {
            LOG.info("dry run: nftables {} and {} (an nftables-mode kube-proxy's) are not looked at; a real "
                    + "run deletes them where they exist", KubeProxyTables.ALL.get(0), KubeProxyTables.ALL.get(1));
            return true;
        }
        return KubeProxyTables.remove();
    }
}
