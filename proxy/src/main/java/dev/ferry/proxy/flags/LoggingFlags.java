package dev.ferry.proxy.flags;

import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.FlagNames;
import dev.ferry.mode.FlagText;
import dev.ferry.mode.GoDuration;
import dev.ferry.mode.InvalidFlagException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Upstream's logging flags (component-base logsapi): -v, --logging-format, --log-flush-frequency,
 * --vmodule, and the [Alpha] split-stream and buffer flags of each format. Checked as upstream
 * checks them (vmodule only with the text format; the alpha flags only with the
 * LoggingAlphaOptions gate; json only with LoggingBetaOptions).
 */
public final class LoggingFlags implements FlagGroup {

    static final String VERBOSITY = "--v";
    static final String FORMAT = "--logging-format";
    static final String FLUSH = "--log-flush-frequency";
    static final String VMODULE = "--vmodule";
    static final String TEXT_SPLIT = "--log-text-split-stream";
    static final String TEXT_BUFFER = "--log-text-info-buffer-size";
    static final String JSON_SPLIT = "--log-json-split-stream";
    static final String JSON_BUFFER = "--log-json-info-buffer-size";

    @Option(names = {"-v", VERBOSITY}, paramLabel = "LEVEL", defaultValue = "0", converter = VerbosityConverter.class,
            description = "Log verbosity: 0-1 info, 2-3 debug, 4 and more trace. Default: ${DEFAULT-VALUE}.")
    int verbosity;

    @Option(names = FORMAT, paramLabel = "FORMAT", defaultValue = "text", converter = FormatConverter.class,
            description = "text, or json: one JSON object per line (timestamp, level, loggerName, formattedMessage, "
                    + "kvpList, ...). Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = FLUSH, paramLabel = "DURATION", defaultValue = "5s", converter = FlagConverters.DurationConverter.class,
            description = "Accepted; ferry writes every log line at once. Default: ${DEFAULT-VALUE}.")
    Duration flushFrequency;

    @Option(names = VMODULE, paramLabel = "PATTERN=N,...", defaultValue = "", converter = VmoduleConverter.class,
            description = "Accepted (text format only, as upstream); ferry's verbosity is per package: use -v.")
    Vmodule vmodule;

    @Option(names = TEXT_SPLIT, arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = FlagConverters.BoolConverter.class,
            description = "[Alpha, gate LoggingAlphaOptions] Text format: errors to standard error, the rest to standard output.")
    boolean textSplitStream;

    @Option(names = TEXT_BUFFER, paramLabel = "QUANTITY", defaultValue = "0", converter = QuantityConverter.class,
            description = "[Alpha, gate LoggingAlphaOptions] Accepted; ferry does not buffer log lines.")
    Quantity textInfoBufferSize;

    @Option(names = JSON_SPLIT, arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = FlagConverters.BoolConverter.class,
            description = "[Alpha, gate LoggingAlphaOptions] JSON format: errors to standard error, the rest to standard output.")
    boolean jsonSplitStream;

    @Option(names = JSON_BUFFER, paramLabel = "QUANTITY", defaultValue = "0", converter = QuantityConverter.class,
            description = "[Alpha, gate LoggingAlphaOptions] Accepted; ferry does not buffer log lines.")
    Quantity jsonInfoBufferSize;

    public int verbosity() {
        return verbosity;
    }

    /** "text" or "json". */
    public String format() {
        return format;
    }

    /** Whether errors go to standard error and everything else to standard output (the chosen format's split-stream flag). */
    public boolean splitStream() {
        return format.equals("json") ? jsonSplitStream : textSplitStream;
    }

    @Override
    public void validate(FlagNames names, FeatureGates gates) {
        if (format.equals("json") && !gates.enabled("LoggingBetaOptions")) {
            throw new InvalidFlagException(names.of(FORMAT) + ": log format json is disabled, see the LoggingBetaOptions feature gate");
        }
        if (!vmodule.isEmpty() && !format.equals("text")) {
            throw new InvalidFlagException(names.of(VMODULE) + ": only supported for the text log format");
        }
        if (!gates.enabled("LoggingAlphaOptions")) {
            for (String flag : List.of(TEXT_SPLIT, TEXT_BUFFER, JSON_SPLIT, JSON_BUFFER)) {
                if (alphaSet(flag)) {
                    throw new InvalidFlagException(names.of(flag) + ": feature gate LoggingAlphaOptions is disabled");
                }
            }
        }
    }

    private boolean alphaSet(String flag) {
        return switch (flag) {
            case TEXT_SPLIT -> textSplitStream;
            case TEXT_BUFFER -> !textInfoBufferSize.isZero();
            case JSON_SPLIT -> jsonSplitStream;
            default -> !jsonInfoBufferSize.isZero();
        };
    }

    @Override
    public List<String> warnings(FlagNames names, Predicate<String> given) {
        List<String> out = new ArrayList<>();
        if (given.test(FLUSH) || !flushFrequency.equals(Duration.ofSeconds(5))) {
            out.add(names.of(FLUSH) + "=" + GoDuration.format(flushFrequency) + " is accepted and not needed: ferry writes every log "
                    + "line as it is logged");
        }
        if (!vmodule.isEmpty()) {
            out.add(names.of(VMODULE) + "=" + vmodule.flagText() + " is ignored: ferry sets verbosity per package, not per "
                    + "source file; use -v (2: debug, 4: trace)");
        }
        if (!textInfoBufferSize.isZero() || !jsonInfoBufferSize.isZero()) {
            out.add(names.of(textInfoBufferSize.isZero() ? JSON_BUFFER : TEXT_BUFFER) + " is ignored: ferry does not buffer "
                    + "log lines");
        }
        return out;
    }

    /** A --vmodule value, checked as upstream checks it: pattern=N items, comma-separated; empty items are skipped. */
    public record Vmodule(String flagText) implements FlagText {
        boolean isEmpty() {
            return flagText.isEmpty();
        }
    }

    /** A Kubernetes quantity ("0", "512", "1k", "2Ki", "1.5Mi", "1e3"), as the buffer-size flags take it. */
    public record Quantity(String flagText, boolean isZero) implements FlagText {
        private static final Pattern SYNTAX =
                Pattern.compile("[+-]?(\\d+(?:\\.\\d*)?|\\.\\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\\d+)?");

        static Quantity parse(String text) {
            Matcher m = SYNTAX.matcher(text.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("\"" + text + "\" is not a quantity (e.g. 512, 64Ki, 1M)");
            }
            return new Quantity(text.trim(), new BigDecimal(m.group(1)).signum() == 0);
        }
    }

    static final class VerbosityConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int level = FlagConverters.integer(value);
            if (level < 0) {
                throw new TypeConversionException("\"" + value + "\" is negative");
            }
            return level;
        }
    }

    /** Upstream's --logging-format values: text and json. */
    static final class FormatConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!value.equals("text") && !value.equals("json")) {
                throw new TypeConversionException("\"" + value + "\" is not a log format (permitted: \"json\", \"text\")");
            }
            return value;
        }
    }

    static final class VmoduleConverter implements ITypeConverter<Vmodule> {
        @Override
        public Vmodule convert(String value) {
            List<String> items = new ArrayList<>();
            for (String item : value.split(",", -1)) {
                if (item.isEmpty()) {
                    continue;
                }
                String[] p = item.split("=", -1);
                if (p.length != 2 || p[0].isEmpty() || p[1].isEmpty()) {
                    throw new TypeConversionException("\"" + item + "\" does not have the pattern=N format");
                }
                int n;
                try {
                    n = Integer.parseInt(p[1]);
                } catch (NumberFormatException e) {
                    throw new TypeConversionException("verbosity in \"" + item + "\" is not a number from 0 to 2147483647");
                }
                if (n < 0) {
                    throw new TypeConversionException("verbosity in \"" + item + "\" is negative");
                }
                items.add(p[0] + "=" + n);
            }
            return new Vmodule(String.join(",", items));
        }
    }

    static final class QuantityConverter implements ITypeConverter<Quantity> {
        @Override
        public Quantity convert(String value) {
            return FlagConverters.parsed(value, Quantity::parse);
        }
    }
}
