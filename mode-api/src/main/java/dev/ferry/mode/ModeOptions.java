package dev.ferry.mode;

import dev.ferry.core.Backend;

import java.util.List;
import java.util.Optional;

/**
 * A mode's flags (an instance is a picocli mixin with the mode's {@code @Option} fields), and
 * what the mode does with them: check them, start its backends, clean up.
 */
public interface ModeOptions {

    /**
     * Checks what one flag's converter cannot (values that are wrong together).
     *
     * @param names how a message names the setting behind a flag (the flag, or the config field it came from)
     * @throws InvalidFlagException naming the flag
     */
    default void validate(FlagNames names) {
    }

    /** The mode's own sync intervals; empty: the shared --iptables-min-sync-period and --iptables-sync-period. */
    default Optional<SyncPeriods> syncPeriods() {
        return Optional.empty();
    }

    /**
     * The mode's backends for this node: one per IP family it programs.
     *
     * @throws ModeUnavailableException when the mode cannot run on this machine (startup fails, as upstream's does)
     */
    ModeRuntime start(ModeContext context) throws ModeUnavailableException;

    /**
     * Backends whose {@link Backend#cleanup()} removes everything the mode ever programmed on this
     * node, both families (--cleanup). One that cannot even be built reports why from its cleanup.
     */
    List<FamilyBackend> cleanup(ModeContext context);

    /**
     * Removes what this mode left on the node that would disturb another mode and that the other
     * cannot fold into its own programming (its iptables chains are: {@link ProxyMode#ownedChains()};
     * a table of its own, say, is not). Called when any other mode starts, before its first sync;
     * in a dry run ({@link ModeContext#appliesChanges()} false) it changes nothing. Never throws:
     * what cannot be removed is logged. Default: nothing to remove.
     */
    default void removeLeftovers(ModeContext context) {
    }
}
