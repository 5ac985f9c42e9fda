package dev.ferry.proxy.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.ferry.core.IpAddresses;
import dev.ferry.mode.ConfigField;
import dev.ferry.mode.FlagText;
import dev.ferry.mode.GoDuration;
import dev.ferry.proxy.modes.ProxyModes;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * --write-config-to: the options in effect (config file, flags, defaults) as a
 * KubeProxyConfiguration, one field per option a field of upstream's type sets, keys sorted as
 * upstream writes them. Read back with --config, it gives the same options. Fields ferry ignores
 * are left out.
 *
 * <p>One thing does not survive the trip, as upstream: a server disabled by an empty
 * --healthz-bind-address or --metrics-bind-address is written as "", which a config file reads
 * as the default address.
 */
public final class EffectiveConfig {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR))
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private EffectiveConfig() {
    }

    /** The document, from the current values of {@code spec}'s options (this build's modes). */
    public static String yaml(CommandSpec spec) {
        return yaml(spec, ConfigSchema.BUILT_IN);
    }

    private static String yaml(CommandSpec spec, ConfigSchema schema) {
        Map<String, Object> root = new TreeMap<>();
        root.put("apiVersion", ConfigSchema.API_VERSION);
        root.put("kind", ConfigSchema.KIND);
        for (ConfigField field : schema.fields().values()) {
            if (!field.ignored()) {
                put(root, field.path(), value(field, ConfigFlags.option(spec, field.flag()).getValue()));
            }
        }
        try {
            return "# The effective configuration of ferry-proxy (config file, flags, defaults), written by --write-config-to.\n"
                    + YAML.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write plain maps as YAML", e);
        }
    }

    /** Writes {@link #yaml} of the fields of {@code modes} to {@code file}, replacing it. */
    public static void write(CommandSpec spec, Path file, ProxyModes modes) {
        try {
            Files.writeString(file, yaml(spec, ConfigSchema.of(modes)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> root, String path, Object value) {
        Map<String, Object> at = root;
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
            at = (Map<String, Object>) at.computeIfAbsent(parts[i], k -> new TreeMap<String, Object>());
        }
        at.put(parts[parts.length - 1], value);
    }

    /** The option's value as the field's JSON type holds it. */
    private static Object value(ConfigField field, Object option) {
        switch (field.kind()) {
            case BOOL:
                return option;
            case INT:
                return option;
            case NUMBER: { // a float32 upstream: written as 5, or 2.5
                double d = Double.parseDouble(option.toString());
                return d == Math.rint(d) && Math.abs(d) < 1e15 ? (Object) (long) d : (Object) d;
            }
            case BOOL_MAP: {
                Map<String, Boolean> gates = new TreeMap<>();
                for (String item : text(option).split(",")) {
                    int eq = item.indexOf('=');
                    if (eq > 0) {
                        gates.put(item.substring(0, eq), Boolean.parseBoolean(item.substring(eq + 1)));
                    }
                }
                return gates;
            }
            case VMODULE_LIST: {
                List<Map<String, Object>> items = new ArrayList<>();
                for (String item : text(option).split(",")) {
                    int eq = item.indexOf('=');
                    if (eq > 0) {
                        items.add(Map.of("filePattern", item.substring(0, eq), "verbosity", Long.parseLong(item.substring(eq + 1))));
                    }
                }
                return items;
            }
            case STRING_LIST: {
                List<String> items = new ArrayList<>();
                ((Collection<?>) option).forEach(o -> items.add(text(o)));
                return items;
            }
            default:
                return text(option);
        }
    }

    /** The text a flag takes for this value. */
    static String text(Object value) {
        if (value == null) {
            return "";
        }
        if (value instanceof Duration d) {
            return GoDuration.format(d);
        }
        if (value instanceof InetAddress a) {
            return IpAddresses.format(a);
        }
        if (value instanceof FlagText t) {
            return t.flagText();
        }
        if (value instanceof Collection<?> c) {
            List<String> items = new ArrayList<>();
            c.stream().filter(java.util.Objects::nonNull).forEach(o -> items.add(text(o)));
            return String.join(",", items);
        }
        return value.toString();
    }
}
