package dev.ferry.mode;

import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * One proxy mode, as the daemon, --cleanup and the inspection tools see it. Adding a mode is a
 * module with one implementation of this, plus one line in the proxy's registry.
 *
 * <p>Everything here is fixed for the mode; what depends on its flags comes from
 * {@link #newOptions()}: a picocli mixin the command line fills, which then starts the mode's
 * backends, builds its cleanup and removes its leftovers. Implementations are stateless and thread-safe.
 */
public interface ProxyMode {

    /** The --proxy-mode value, and the config file's {@code mode}. */
    String name();

    /** One line for --help: how the mode programs the node. */
    String summary();

    /** A new holder of the mode's flags (a picocli mixin); every mode's flags are accepted whichever mode runs. */
    ModeOptions newOptions();

    /** The mode's fields of KubeProxyConfiguration, each setting one of its flags or ignored. */
    List<ConfigField> configFields();

    /**
     * Why --dry-run cannot print what the mode would program (e.g. IPVS: its table is programmed
     * over netlink and has no text form), or empty when it can.
     */
    Optional<String> dryRunUnavailable();

    /**
     * Whether the kernel NATs the mode's traffic, so that UDP conntrack flows go stale when
     * endpoints change and are cleaned after each sync (false for a proxy that opens its own connections).
     */
    boolean cleansConntrack();

    /**
     * The iptables chains only this mode creates. Every other mode removes them when it starts on
     * a node this one ran on, as upstream's modes clean each other's leftovers (a mode that writes
     * iptables folds their removal into its own first restore: {@link ModeContext#leftovers()}).
     * Matches nothing when the mode leaves no chain another would remove.
     */
    Predicate<String> ownedChains();

    /** The mode's view of the live node, for {@code inspect} and {@code trace}. */
    ModeView view(LiveNode node);
}
