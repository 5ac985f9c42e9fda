package dev.ferry.mode;

/** How a message names the setting behind a flag: the flag itself, or the config file field its value came from. */
@FunctionalInterface
public interface FlagNames {

    /** Names every flag as itself. */
    FlagNames AS_GIVEN = flag -> flag;

    String of(String flag);
}
