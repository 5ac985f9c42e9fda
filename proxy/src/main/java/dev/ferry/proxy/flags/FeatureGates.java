package dev.ferry.proxy.flags;

import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.FlagText;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * kube-proxy v1.34's feature gates (the list in {@value #RESOURCE}) and the values --feature-gates
 * or the config file's featureGates give them, checked as upstream's gate checks them: an unknown
 * name or a locked gate set against its default is an error; a GA or deprecated gate set is a warning.
 */
public final class FeatureGates {

    static final String RESOURCE = "feature-gates-v1.34.txt";

    /** A gate's release stage in v1.34. */
    enum Stage { ALPHA, BETA, GA, DEPRECATED }

    /** A known gate as v1.34 defines it. */
    record Gate(String name, Stage stage, boolean byDefault, boolean locked) {
    }

    private static final String ALL_ALPHA = "AllAlpha";
    private static final String ALL_BETA = "AllBeta";

    private static final Map<String, Gate> KNOWN = load();

    /** One "Name=bool" of --feature-gates, checked against the known gates. */
    public record Setting(String name, boolean enabled) implements FlagText {
        @Override
        public String flagText() {
            return name + "=" + enabled;
        }
    }

    private final Map<String, Boolean> set;

    private FeatureGates(Map<String, Boolean> set) {
        this.set = set;
    }

    /** The gates as {@code settings} set them (a later setting of a name wins, as upstream's map; nulls are empty items). */
    public static FeatureGates of(List<Setting> settings) {
        Map<String, Boolean> m = new LinkedHashMap<>();
        settings.stream().filter(Objects::nonNull).forEach(s -> m.put(s.name(), s.enabled()));
        return new FeatureGates(Collections.unmodifiableMap(m));
    }

    /** Whether {@code name} (a known gate) is on: as set, else as AllAlpha/AllBeta say for its stage, else its default. */
    public boolean enabled(String name) {
        Gate g = KNOWN.get(name);
        if (g == null) {
            throw new IllegalArgumentException("not a v1.34 feature gate: " + name);
        }
        Boolean explicit = set.get(name);
        if (explicit != null) {
            return explicit;
        }
        if (!g.locked() && g.stage() == Stage.ALPHA && set.containsKey(ALL_ALPHA)) {
            return set.get(ALL_ALPHA);
        }
        if (!g.locked() && g.stage() == Stage.BETA && set.containsKey(ALL_BETA)) {
            return set.get(ALL_BETA);
        }
        return g.byDefault();
    }

    /** The gates given, in order. */
    public Map<String, Boolean> set() {
        return set;
    }

    /** Whether v1.34 knows {@code name} (case matters, as upstream). */
    static boolean known(String name) {
        return KNOWN.containsKey(name);
    }

    /** How many gates v1.34 knows. */
    static int knownCount() {
        return KNOWN.size();
    }

    /**
     * Upstream's warnings for the gates set (a GA or deprecated gate will be removed), and ours where
     * a gate that changes kube-proxy's behaviour asks for something ferry does not do.
     */
    public List<String> warnings() {
        List<String> out = new java.util.ArrayList<>();
        set.forEach((name, on) -> {
            Gate g = KNOWN.get(name);
            if (g.stage() == Stage.GA || g.stage() == Stage.DEPRECATED) {
                out.add("--feature-gates: setting " + (g.stage() == Stage.GA ? "GA" : "deprecated") + " feature gate " + name + "="
                        + on + "; it will be removed in a future release (as upstream warns)");
            }
        });
        if (!enabled("PreferSameTrafficDistribution")) {
            out.add("--feature-gates: PreferSameTrafficDistribution=false is not followed: ferry keeps honouring "
                    + "trafficDistribution PreferSameNode and PreferSameZone (node and zone hints)");
        }
        if (enabled("ComponentFlagz") || enabled("ComponentStatusz")) {
            out.add("--feature-gates: ComponentFlagz and ComponentStatusz have no effect: ferry serves no /flagz or /statusz "
                    + "(--write-config-to shows the effective configuration, /metrics the state)");
        }
        return out;
    }

    /**
     * --feature-gates' converter: one "Name=bool" (the option splits the list at commas), as upstream's
     * MapStringBool; an empty item (a trailing comma, an empty flag) is skipped: null.
     */
    public static final class SettingConverter implements ITypeConverter<Setting> {
        @Override
        public Setting convert(String value) {
            String item = value.trim();
            if (item.isEmpty()) {
                return null;
            }
            int eq = item.indexOf('=');
            if (eq < 0) {
                throw new TypeConversionException("missing bool value for " + item);
            }
            String name = item.substring(0, eq).trim();
            boolean on;
            try {
                on = new FlagConverters.BoolConverter().convert(item.substring(eq + 1).trim());
            } catch (TypeConversionException e) {
                throw new TypeConversionException("invalid value of " + item + ": " + e.getMessage());
            }
            Gate g = KNOWN.get(name);
            if (g == null) {
                throw new TypeConversionException("unrecognized feature gate: " + name);
            }
            if (g.locked() && g.byDefault() != on) {
                throw new TypeConversionException("cannot set feature gate " + name + " to " + on
                        + ", feature is locked to " + g.byDefault());
            }
            return new Setting(name, on);
        }
    }

    private static Map<String, Gate> load() {
        Map<String, Gate> out = new LinkedHashMap<>();
        try (InputStream in = Objects.requireNonNull(FeatureGates.class.getResourceAsStream(RESOURCE), RESOURCE);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split("\\s+");
                Gate g = new Gate(f[0], Stage.valueOf(f[1]), Boolean.parseBoolean(f[2]), f.length > 3 && f[3].equals("locked"));
                if (out.put(g.name(), g) != null) {
                    throw new IllegalStateException(RESOURCE + ": " + g.name() + " listed twice");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Collections.unmodifiableMap(out);
    }
}
