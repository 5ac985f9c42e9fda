package dev.ferry.mode;

import java.util.Objects;

/**
 * One leaf of upstream's KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1): it either sets
 * the same option as one of our flags, or is accepted and ignored because nothing acts on it.
 *
 * @param path             dotted path, e.g. "ipvs.scheduler"
 * @param kind             the JSON type the field has upstream
 * @param flag             the flag whose option it sets; null when ignored
 * @param zeroMeansDefault upstream's defaulting replaces a zero value ("", 0s) by the default, so a
 *                         zero leaves the flag's default in place
 * @param upstreamDefault  for ignored fields: a value no warning is worth; null when only the zero value is
 */
public record ConfigField(String path, Kind kind, String flag, boolean zeroMeansDefault, Object upstreamDefault) {

    /** The JSON type a field has upstream, and so in the file. */
    public enum Kind {
        STRING, BOOL, INT, NUMBER, DURATION, STRING_LIST, BOOL_MAP,
        /** A Kubernetes quantity: a string ("64Ki") or a number. */
        QUANTITY,
        /** A duration string ("5s") or a number of nanoseconds (logging's TimeOrMetaDuration). */
        NANOS_OR_DURATION,
        /** logging.vmodule: a list of {filePattern, verbosity} objects. */
        VMODULE_LIST,
        /** Structured or loosely typed upstream (logging options); only ever ignored. */
        ANY
    }

    public ConfigField {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(kind, "kind");
    }

    /** A field that sets {@code flag}'s option. */
    public static ConfigField flag(String path, Kind kind, String flag) {
        return new ConfigField(path, kind, Objects.requireNonNull(flag, "flag"), false, null);
    }

    /** A duration field whose zero means upstream's default (syncPeriod and the like). */
    public static ConfigField zeroIsDefault(String path, String flag) {
        return zeroIsDefault(path, Kind.DURATION, flag);
    }

    /** A field of {@code kind} whose zero ("", 0, "0s") means upstream's default (clientConnection.qps and the like). */
    public static ConfigField zeroIsDefault(String path, Kind kind, String flag) {
        return new ConfigField(path, kind, Objects.requireNonNull(flag, "flag"), true, null);
    }

    /** A field accepted and ignored; a warning names it when it holds anything but zero or {@code upstreamDefault}. */
    public static ConfigField ignored(String path, Kind kind, Object upstreamDefault) {
        return new ConfigField(path, kind, null, false, upstreamDefault);
    }

    public boolean ignored() {
        return flag == null;
    }
}
