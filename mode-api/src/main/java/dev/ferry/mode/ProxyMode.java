package dev.ferry.mode;

import dev.ferry.mode.inspect.LiveNode;
import dev.ferry.mode.inspect.ModeView;

import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * One proxy mode, as the daemon, --cleanup and the inspection tools see it. Adding a mode is a
 * module with one implementation of this, plus one line in the proxy's registry.
 *
 * <p>Everything here is fixed for the mode; what depends on its flags comes from
 * {@link #newOptions()}: a picocli mixin the command line fills, which then starts the mode's
 * backends and builds its cleanup. Implementations are stateless and thread-safe.
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

    /** Whether --dry-run can print what the mode would program (false: it programs over netlink). */
    boolean supportsDryRun();

    /**
     * Whether the kernel NATs the mode's traffic, so that UDP conntrack flows go stale when
     * endpoints change and are cleaned after each sync (false for a proxy that opens its own connections).
     */
    boolean cleansConntrack();

    /**
     * The iptables chains only this mode creates: another mode removes them when it starts on a
     * node this one ran on. Matches nothing when the mode leaves nothing another would remove.
     */
    Predicate<String> ownedChains();

    /** The modes whose leftovers this mode removes when it starts (their {@link #ownedChains()}). */
    Set<String> removesLeftoversOf();

    /** The mode's view of the live node, for {@code inspect} and {@code trace}. */
    ModeView view(LiveNode node);
}
