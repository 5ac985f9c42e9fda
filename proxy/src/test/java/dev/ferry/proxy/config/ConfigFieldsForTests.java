package dev.ferry.proxy.config;

import dev.ferry.mode.ConfigField;

import java.util.List;

/** The config schema's fields, for tests outside this package. */
public final class ConfigFieldsForTests {

    private ConfigFieldsForTests() {
    }

    /** Every field of this build's schema. */
    public static List<ConfigField> builtIn() {
        return List.copyOf(ConfigSchema.BUILT_IN.fields().values());
    }
}
