package dev.ferry.proxy.flags;

import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.FlagNames;
import dev.ferry.mode.InvalidFlagException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The health and metrics servers' other flags: --bind-address-hard-fail (acted on), --profiling
 * and --show-hidden-metrics-for-version (checked as upstream, then a warning), and the deprecated
 * --healthz-port and --metrics-port, hidden from --help as pflag hides deprecated flags (their
 * effect on the bind addresses is applied by the command line, which owns those).
 */
public final class ServerFlags implements FlagGroup {

    static final String HARD_FAIL = "--bind-address-hard-fail";
    static final String PROFILING = "--profiling";
    static final String SHOW_HIDDEN_METRICS = "--show-hidden-metrics-for-version";
    public static final String HEALTHZ_PORT = "--healthz-port";
    public static final String METRICS_PORT = "--metrics-port";

    /** The only value --show-hidden-metrics-for-version takes in v1.34: the previous minor version. */
    static final String PREVIOUS_MINOR = "1.33";

    @Option(names = HARD_FAIL, arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = FlagConverters.BoolConverter.class,
            description = "Exit (status 1) when the health or metrics server cannot listen, instead of retrying every 5 s.")
    boolean bindAddressHardFail;

    @Option(names = PROFILING, arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = FlagConverters.BoolConverter.class,
            description = "Accepted; a JVM has no /debug/pprof: use Java Flight Recorder (jcmd PID JFR.start).")
    boolean profiling;

    @Option(names = SHOW_HIDDEN_METRICS, paramLabel = "VERSION", defaultValue = "", converter = PreviousMinorConverter.class,
            description = "Accepted when empty or " + PREVIOUS_MINOR + ", as upstream; ferry hides no metric.")
    String showHiddenMetricsForVersion;

    @Option(names = HEALTHZ_PORT, hidden = true, paramLabel = "PORT", converter = PortConverter.class)
    Integer healthzPort;

    @Option(names = METRICS_PORT, hidden = true, paramLabel = "PORT", converter = PortConverter.class)
    Integer metricsPort;

    public boolean bindAddressHardFail() {
        return bindAddressHardFail;
    }

    /** --healthz-port as given; null when not given. */
    public Integer healthzPort() {
        return healthzPort;
    }

    /** --metrics-port as given; null when not given. */
    public Integer metricsPort() {
        return metricsPort;
    }

    @Override
    public void validate(FlagNames names, FeatureGates gates) {
        if (!showHiddenMetricsForVersion.isEmpty() && !showHiddenMetricsForVersion.equals(PREVIOUS_MINOR)) {
            throw new InvalidFlagException(names.of(SHOW_HIDDEN_METRICS) + " must be omitted or have the value '"
                    + PREVIOUS_MINOR + "'. Only the previous minor version is allowed");
        }
    }

    @Override
    public List<String> warnings(FlagNames names, Predicate<String> given) {
        List<String> out = new ArrayList<>();
        if (profiling) {
            out.add(names.of(PROFILING) + " is accepted and not applied: a JVM has no /debug/pprof; profile with Java Flight "
                    + "Recorder instead: jcmd <pid> JFR.start duration=60s filename=/tmp/ferry.jfr");
        }
        if (!showHiddenMetricsForVersion.isEmpty()) {
            out.add(names.of(SHOW_HIDDEN_METRICS) + "=" + PREVIOUS_MINOR + " changes nothing: ferry hides no metric; every "
                    + "series it has is on /metrics");
        }
        return out;
    }

    /** A port: 0..65535 (upstream takes an int32; 0 disables the server). */
    static final class PortConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int port = FlagConverters.integer(value);
            if (port < 0 || port > 65535) {
                throw new TypeConversionException("\"" + value + "\" is not a port (0..65535)");
            }
            return port;
        }
    }

    /** Any text: the check needs the flag's name, so it is made by {@link #validate}. */
    static final class PreviousMinorConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            return value.trim();
        }
    }
}
