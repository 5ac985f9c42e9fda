package dev.ferry.proxy.flags;

import dev.ferry.mode.FlagNames;

import java.util.List;
import java.util.function.Predicate;

/**
 * The flags of one topic: a picocli mixin that checks what its converters cannot and says, once
 * per flag, what ferry does where it does not do what upstream does.
 */
public interface FlagGroup {

    /**
     * Checks values that are wrong together or with the feature gates.
     *
     * @param names how a message names the setting behind a flag (the flag, or the config field it came from)
     * @throws dev.ferry.mode.InvalidFlagException naming the flag
     */
    default void validate(FlagNames names, FeatureGates gates) {
    }

    /**
     * One warning per flag that is accepted but not acted on as upstream acts on it.
     *
     * @param given whether a flag was given on the command line (a value from the config file counts
     *              when it differs from the default)
     */
    List<String> warnings(FlagNames names, Predicate<String> given);
}
