package dev.ferry.proxy.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.core.IpAddresses;
import dev.ferry.mode.ConfigField;
import dev.ferry.mode.ConfigField.Kind;
import dev.ferry.mode.GoDuration;
import dev.ferry.proxy.modes.ProxyModes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A KubeProxyConfiguration file (YAML or JSON), read strictly: an unknown field, a value of the
 * wrong type or one our flags would refuse fails the load, naming the field's path. The file may
 * also be a whole ConfigMap holding it under kubeadm's key {@value #CONFIGMAP_KEY}.
 *
 * <p>What it gives: each supported field's value in the syntax of the flag that sets the same
 * option ({@link #settings()}), after upstream's defaulting, under which an empty string or a
 * zero period means "the default" (kubeadm's config.conf is full of them); and the ignored
 * fields that carry a value worth a warning ({@link #ignored()}).
 */
public final class KubeProxyConfigFile {

    static final String CONFIGMAP_KEY = "config.conf";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** One supported field: its path, the flag whose option it sets, and the value in the flag's syntax. */
    public record Setting(String field, String flag, String value) {
    }

    /** An ignored field that carries a value, and why ferry does not act on it. */
    public record Ignored(String field, String value, String why) {
    }

    private final String source;
    private final ConfigSchema schema;
    private final List<Setting> settings = new ArrayList<>();
    private final List<Ignored> ignored = new ArrayList<>();
    private byte[] content = new byte[0];

    private KubeProxyConfigFile(String source, ConfigSchema schema) {
        this.source = source;
        this.schema = schema;
    }

    /** Reads and checks {@code file} against the fields of this build's modes. */
    public static KubeProxyConfigFile load(Path file) throws ConfigFileException {
        return load(file, ConfigSchema.BUILT_IN);
    }

    /** Reads and checks {@code file} against the shared fields and those of {@code modes}. */
    public static KubeProxyConfigFile load(Path file, ProxyModes modes) throws ConfigFileException {
        return load(file, ConfigSchema.of(modes));
    }

    private static KubeProxyConfigFile load(Path file, ConfigSchema schema) throws ConfigFileException {
        Objects.requireNonNull(file, "file");
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigFileException(file.toString(), "cannot read it: " + e, e);
        }
        KubeProxyConfigFile config = parse(file.toString(), new String(content, StandardCharsets.UTF_8), schema);
        config.content = content;
        return config;
    }

    /** Checks {@code text}; {@code source} names it in messages. */
    static KubeProxyConfigFile parse(String source, String text) throws ConfigFileException {
        return parse(source, text, ConfigSchema.BUILT_IN);
    }

    private static KubeProxyConfigFile parse(String source, String text, ConfigSchema schema) throws ConfigFileException {
        JsonNode root = read(source, text);
        if (text(root, "kind").equals("ConfigMap") && text(root, "apiVersion").equals("v1")) {
            JsonNode conf = root.path("data").path(CONFIGMAP_KEY);
            if (!conf.isTextual()) {
                throw new ConfigFileException(source, "data." + CONFIGMAP_KEY,
                        "missing: a ConfigMap must hold the KubeProxyConfiguration under kubeadm's key " + CONFIGMAP_KEY);
            }
            source = source + " (data." + CONFIGMAP_KEY + ")";
            root = read(source, conf.asText());
        }
        KubeProxyConfigFile config = new KubeProxyConfigFile(source, schema);
        config.checkType(root, "apiVersion", ConfigSchema.API_VERSION);
        config.checkType(root, "kind", ConfigSchema.KIND);
        config.walk(root, "");
        config.defaultAddressesForIpv6();
        return config;
    }

    /** The file's name (and key, for a ConfigMap), as messages give it. */
    public String source() {
        return source;
    }

    /** The bytes loaded, for {@link ConfigFileWatch} to compare with. */
    byte[] content() {
        return content.clone();
    }

    /** The supported fields that are set, in the order of upstream's type. */
    public List<Setting> settings() {
        return List.copyOf(settings);
    }

    /** The ignored fields set to something other than their zero value or upstream's default. */
    public List<Ignored> ignored() {
        return List.copyOf(ignored);
    }

    private static JsonNode read(String source, String text) throws ConfigFileException {
        if (text.isBlank()) {
            throw new ConfigFileException(source, null, "empty (expected a KubeProxyConfiguration)");
        }
        JsonNode root;
        try {
            root = (text.strip().startsWith("{") ? JSON : YAML).readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigFileException(source, "neither YAML nor JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigFileException(source, null, "not a KubeProxyConfiguration object");
        }
        return root;
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() ? v.asText() : "";
    }

    private void checkType(JsonNode root, String field, String expected) throws ConfigFileException {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            throw new ConfigFileException(source, field, "missing (must be " + expected + ")");
        }
        if (!v.isTextual() || !v.asText().equals(expected)) {
            throw new ConfigFileException(source, field, v + " is not " + expected);
        }
    }

    private void walk(JsonNode object, String prefix) throws ConfigFileException {
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            JsonNode value = e.getValue();
            ConfigField field = schema.fields().get(path);
            if (prefix.isEmpty() && (path.equals("apiVersion") || path.equals("kind"))) {
                continue;
            } else if (field != null) {
                leaf(field, value);
            } else if (schema.objects().contains(path)) {
                if (value.isObject()) {
                    walk(value, path);
                } else if (!value.isNull()) {
                    throw new ConfigFileException(source, path, "expected an object, got " + value);
                }
            } else {
                throw new ConfigFileException(source, path, "unknown field (not in " + ConfigSchema.KIND + " "
                        + ConfigSchema.API_VERSION + ")" + suggestion(prefix, e.getKey()));
            }
        }
    }

    /** Names a known sibling that differs only in case: the usual slip. */
    private String suggestion(String prefix, String name) {
        List<String> known = new ArrayList<>(schema.fields().keySet());
        known.addAll(schema.objects());
        for (String path : known) {
            int dot = path.lastIndexOf('.');
            String parent = dot < 0 ? "" : path.substring(0, dot);
            if (parent.equals(prefix) && path.substring(dot + 1).equalsIgnoreCase(name)) {
                return "; did you mean \"" + path.substring(dot + 1) + "\"?";
            }
        }
        return "";
    }

    private void leaf(ConfigField field, JsonNode value) throws ConfigFileException {
        if (value.isNull()) {
            return; // upstream: a nil pointer or a zero value, either way the default
        }
        checkKind(field, value);
        if (field.ignored()) {
            if (!zeroOrDefault(field, value)) {
                ignored.add(new Ignored(field.path(), value.toString(), why(field.path())));
            }
            return;
        }
        String flagValue = flagValue(field, value);
        if (flagValue != null) {
            settings.add(new Setting(field.path(), field.flag(), flagValue));
        }
    }

    private void checkKind(ConfigField field, JsonNode value) throws ConfigFileException {
        boolean ok;
        String expected;
        switch (field.kind()) {
            case STRING -> { ok = value.isTextual(); expected = "a string"; }
            case DURATION -> { ok = value.isTextual(); expected = "a duration string (e.g. \"30s\")"; }
            case BOOL -> { ok = value.isBoolean(); expected = "true or false"; }
            case INT -> { ok = value.isIntegralNumber() && value.canConvertToInt(); expected = "a 32-bit integer"; }
            case NUMBER -> { ok = value.isNumber(); expected = "a number"; }
            case STRING_LIST -> { ok = value.isArray(); expected = "a list of strings"; }
            case BOOL_MAP -> { ok = value.isObject(); expected = "a map of feature names to true or false"; }
            case QUANTITY -> { ok = value.isTextual() || value.isNumber(); expected = "a quantity (e.g. \"64Ki\" or 0)"; }
            case NANOS_OR_DURATION -> { ok = value.isTextual() || value.isIntegralNumber(); expected = "a duration string or nanoseconds"; }
            case VMODULE_LIST -> { ok = value.isArray(); expected = "a list of {filePattern, verbosity}"; }
            default -> { ok = true; expected = ""; }
        }
        if (!ok) {
            throw new ConfigFileException(source, field.path(), "expected " + expected + ", got " + value);
        }
        if (field.kind() == Kind.STRING_LIST) {
            for (int i = 0; i < value.size(); i++) {
                if (!value.get(i).isTextual()) {
                    throw new ConfigFileException(source, field.path() + "[" + i + "]", "expected a string, got " + value.get(i));
                }
            }
        } else if (field.kind() == Kind.BOOL_MAP) {
            for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> gate = it.next();
                if (!gate.getValue().isBoolean()) {
                    throw new ConfigFileException(source, field.path() + "." + gate.getKey(),
                            "expected true or false, got " + gate.getValue());
                }
            }
        } else if (field.kind() == Kind.DURATION || (field.kind() == Kind.NANOS_OR_DURATION && value.isTextual())) {
            duration(field, value.asText());
        } else if (field.kind() == Kind.VMODULE_LIST) {
            for (int i = 0; i < value.size(); i++) {
                JsonNode item = value.get(i);
                if (!item.isObject() || !item.path("filePattern").isTextual() || !item.path("verbosity").isIntegralNumber()) {
                    throw new ConfigFileException(source, field.path() + "[" + i + "]",
                            "expected {filePattern: string, verbosity: integer}, got " + item);
                }
            }
        }
    }

    private Duration duration(ConfigField field, String text) throws ConfigFileException {
        try {
            return GoDuration.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigFileException(source, field.path(), e.getMessage());
        }
    }

    /** The value as its flag takes it; null when upstream's defaulting would leave the default. */
    private String flagValue(ConfigField field, JsonNode value) throws ConfigFileException {
        if (field.zeroMeansDefault() && zero(value)) {
            return null;
        }
        switch (field.kind()) {
            case STRING -> {
                String s = value.asText();
                if (s.isEmpty()) {
                    return null;
                }
                if (field.flag().equals("--healthz-bind-address")) {
                    return withPort(s, 10256);
                }
                if (field.flag().equals("--metrics-bind-address")) {
                    return withPort(s, 10249);
                }
                return s;
            }
            case DURATION -> {
                return field.zeroMeansDefault() && duration(field, value.asText()).isZero() ? null : value.asText();
            }
            case BOOL, INT, NUMBER, QUANTITY -> {
                return value.asText();
            }
            case NANOS_OR_DURATION -> {
                return value.isTextual() ? value.asText() : GoDuration.format(Duration.ofNanos(value.asLong()));
            }
            case BOOL_MAP -> {
                List<String> gates = new ArrayList<>();
                value.fields().forEachRemaining(g -> gates.add(g.getKey() + "=" + g.getValue().asBoolean()));
                return gates.isEmpty() ? null : String.join(",", gates);
            }
            case VMODULE_LIST -> {
                List<String> items = new ArrayList<>();
                value.forEach(item -> items.add(item.path("filePattern").asText() + "=" + item.path("verbosity").asLong()));
                return items.isEmpty() ? null : String.join(",", items);
            }
            case STRING_LIST -> {
                List<String> items = new ArrayList<>();
                value.forEach(item -> items.add(item.asText()));
                return items.isEmpty() ? null : String.join(",", items);
            }
            default -> throw new IllegalStateException(field + " has no flag syntax");
        }
    }

    /**
     * Upstream's defaulting: with an IPv6 bindAddress, an unset healthzBindAddress is [::]:10256
     * and an unset metricsBindAddress [::1]:10249 (the IPv4 defaults otherwise).
     */
    private void defaultAddressesForIpv6() {
        boolean ipv6 = settings.stream().anyMatch(s -> s.field().equals("bindAddress") && IpAddresses.isValid(s.value())
                && IpAddresses.parse(s.value()) instanceof java.net.Inet6Address);
        if (!ipv6) {
            return;
        }
        if (settings.stream().noneMatch(s -> s.field().equals("healthzBindAddress"))) {
            settings.add(new Setting("healthzBindAddress", "--healthz-bind-address", "[::]:10256"));
        }
        if (settings.stream().noneMatch(s -> s.field().equals("metricsBindAddress"))) {
            settings.add(new Setting("metricsBindAddress", "--metrics-bind-address", "[::1]:10249"));
        }
    }

    /** Upstream appends the default port to a bare IP ("0.0.0.0" means 0.0.0.0:10256). */
    private static String withPort(String address, int port) {
        String host = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
        return IpAddresses.isValid(host) ? IpAddresses.hostPort(IpAddresses.parse(host), port) : address;
    }

    private boolean zeroOrDefault(ConfigField field, JsonNode value) throws ConfigFileException {
        if (zero(value)) {
            return true;
        }
        Object d = field.upstreamDefault();
        if (d == null) {
            return false;
        }
        if (field.kind() == Kind.DURATION) {
            return duration(field, value.asText()).equals(duration(field, (String) d));
        }
        if (d instanceof Number n) {
            return value.isNumber() && value.decimalValue().compareTo(new java.math.BigDecimal(n.toString())) == 0;
        }
        return value.isTextual() && value.asText().equals(d);
    }

    /** The zero value of any type, as Go's encoding of an unset field would give it ("0" is a zero quantity). */
    private static boolean zero(JsonNode v) {
        if (v.isNull() || (v.isBoolean() && !v.asBoolean()) || (v.isNumber() && v.decimalValue().signum() == 0)) {
            return true;
        }
        if (v.isTextual()) {
            String s = v.asText();
            return s.isEmpty() || s.equals("0") || s.equals("0s");
        }
        if (v.isContainerNode()) {
            for (JsonNode child : v) {
                if (!zero(child)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    private static String why(String path) {
        if (path.startsWith("nftables.")) {
            return "ferry has no nftables mode";
        }
        if (path.startsWith("winkernel.") || path.equals("windowsRunAsService")) {
            return "Windows only";
        }
        if (path.equals("conntrack.max")) {
            return "upstream removed it: conntrack.maxPerCore and conntrack.min size the table";
        }
        if (path.startsWith("clientConnection.")) {
            return "fabric8's client reads application/json";
        }
        if (path.equals("logging.sanitization")) {
            return "removed from upstream's logging configuration (v1.28)";
        }
        return "ferry does not act on it";
    }
}
