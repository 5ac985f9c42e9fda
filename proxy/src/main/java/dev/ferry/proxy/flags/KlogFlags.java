package dev.ferry.proxy.flags;

import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.FlagNames;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * klog's own flags, which kube-proxy dropped in v1.26 (KEP-2845) but which older DaemonSets and
 * kops' manifests still pass (--logtostderr=false --alsologtostderr --log-file=...). Hidden from
 * --help; each one given is accepted with one warning. The file flags work as klog's did: with
 * --logtostderr=false the log goes to --log-file (or one file in --log-dir), and to standard
 * error everything (--alsologtostderr) or from --stderrthreshold up.
 */
public final class KlogFlags implements FlagGroup {

    static final String LOGTOSTDERR = "--logtostderr";
    static final String ALSOLOGTOSTDERR = "--alsologtostderr";
    static final String LOG_DIR = "--log-dir";
    static final String LOG_FILE = "--log-file";
    static final String LOG_FILE_MAX_SIZE = "--log-file-max-size";
    static final String STDERRTHRESHOLD = "--stderrthreshold";
    static final String ADD_DIR_HEADER = "--add-dir-header";
    static final String SKIP_HEADERS = "--skip-headers";
    static final String SKIP_LOG_HEADERS = "--skip-log-headers";
    static final String ONE_OUTPUT = "--one-output";
    static final String LOG_BACKTRACE_AT = "--log-backtrace-at";

    /** The file klog's --log-dir would hold; one file, where klog wrote one per severity. */
    static final String FILE_IN_DIR = "kube-proxy.log";

    private static final String REMOVED = "klog's flag, removed from kube-proxy in v1.26; ";

    @Option(names = LOGTOSTDERR, hidden = true, arity = "0..1", fallbackValue = "true", defaultValue = "true",
            converter = FlagConverters.BoolConverter.class)
    boolean logToStderr;

    @Option(names = ALSOLOGTOSTDERR, hidden = true, arity = "0..1", fallbackValue = "true",
            converter = FlagConverters.BoolConverter.class)
    boolean alsoLogToStderr;

    @Option(names = LOG_DIR, hidden = true, defaultValue = "")
    String logDir;

    @Option(names = LOG_FILE, hidden = true, defaultValue = "")
    String logFile;

    @Option(names = LOG_FILE_MAX_SIZE, hidden = true, defaultValue = "1800", converter = MegabytesConverter.class)
    long logFileMaxSizeMb;

    @Option(names = STDERRTHRESHOLD, hidden = true, defaultValue = "ERROR", converter = SeverityConverter.class)
    String stderrThreshold;

    @Option(names = ADD_DIR_HEADER, hidden = true, arity = "0..1", fallbackValue = "true",
            converter = FlagConverters.BoolConverter.class)
    boolean addDirHeader;

    @Option(names = SKIP_HEADERS, hidden = true, arity = "0..1", fallbackValue = "true",
            converter = FlagConverters.BoolConverter.class)
    boolean skipHeaders;

    @Option(names = SKIP_LOG_HEADERS, hidden = true, arity = "0..1", fallbackValue = "true",
            converter = FlagConverters.BoolConverter.class)
    boolean skipLogHeaders;

    @Option(names = ONE_OUTPUT, hidden = true, arity = "0..1", fallbackValue = "true",
            converter = FlagConverters.BoolConverter.class)
    boolean oneOutput;

    @Option(names = LOG_BACKTRACE_AT, hidden = true, defaultValue = "", converter = TraceLocationConverter.class)
    String logBacktraceAt;

    /**
     * Where log lines go.
     *
     * @param file            the log file; null: none (standard error only)
     * @param maxSizeMb       the size at which the file is rolled over; 0: no limit
     * @param stderrThreshold the lowest level that still goes to standard error (logback's name, e.g. "ERROR");
     *                        null: every line
     */
    public record LogOutput(Path file, long maxSizeMb, String stderrThreshold) {
        /** klog's default: everything to standard error, no file. */
        public static final LogOutput STDERR = new LogOutput(null, 0, null);
    }

    /** What the flags ask for, as klog read them. */
    public LogOutput output() {
        if (logToStderr) {
            return LogOutput.STDERR;
        }
        return new LogOutput(file(), logFileMaxSizeMb, alsoLogToStderr ? null : stderrThreshold);
    }

    private Path file() {
        if (!logFile.isEmpty()) {
            return Path.of(logFile);
        }
        return Path.of(logDir.isEmpty() ? System.getProperty("java.io.tmpdir") : logDir, FILE_IN_DIR);
    }

    @Override
    public List<String> warnings(FlagNames names, Predicate<String> given) {
        List<String> out = new ArrayList<>();
        String noFile = "no effect while --logtostderr is true (as klog)";
        if (given.test(LOGTOSTDERR)) {
            out.add(LOGTOSTDERR + ": " + REMOVED + (logToStderr ? "the default: logs go to standard error"
                    : "logs go to " + file() + (alsoLogToStderr ? " and to standard error" : " and, from "
                    + stderrThreshold + " up, to standard error")));
        }
        if (given.test(ALSOLOGTOSTDERR)) {
            out.add(ALSOLOGTOSTDERR + ": " + REMOVED + (logToStderr ? noFile : alsoLogToStderr
                    ? "every line also goes to standard error" : "off: only lines from " + stderrThreshold
                    + " up go to standard error"));
        }
        if (given.test(LOG_FILE)) {
            out.add(LOG_FILE + ": " + REMOVED + (logToStderr ? noFile : "logs are written to " + file()));
        }
        if (given.test(LOG_DIR)) {
            out.add(LOG_DIR + ": " + REMOVED + (logToStderr ? noFile : !logFile.isEmpty()
                    ? "no effect: --log-file names the file (as klog)"
                    : "ferry writes one file, " + file() + ", where klog wrote one per severity"));
        }
        if (given.test(LOG_FILE_MAX_SIZE)) {
            out.add(LOG_FILE_MAX_SIZE + ": " + REMOVED + (logToStderr ? noFile : logFileMaxSizeMb == 0
                    ? "the file grows without limit" : "at " + logFileMaxSizeMb + " MB the file is rolled over to "
                    + file() + ".1 (one previous file is kept)"));
        }
        if (given.test(STDERRTHRESHOLD)) {
            out.add(STDERRTHRESHOLD + ": " + REMOVED + (logToStderr || alsoLogToStderr
                    ? "no effect: every line goes to standard error" : "lines from " + stderrThreshold
                    + " up also go to standard error"));
        }
        for (String header : List.of(ADD_DIR_HEADER, SKIP_HEADERS, SKIP_LOG_HEADERS)) {
            if (given.test(header)) {
                out.add(header + ": " + REMOVED + "ignored: ferry's line format is its own (logback's pattern, or JSON "
                        + "with --logging-format=json)");
            }
        }
        if (given.test(ONE_OUTPUT)) {
            out.add(ONE_OUTPUT + ": " + REMOVED + "ignored: ferry writes each line once, to one file");
        }
        if (given.test(LOG_BACKTRACE_AT)) {
            out.add(LOG_BACKTRACE_AT + ": " + REMOVED + "ignored: ferry logs a stack trace with the error it belongs to");
        }
        return out;
    }

    /** klog's --log-file-max-size: megabytes, 0 for no limit. */
    static final class MegabytesConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                long mb = Long.parseLong(value);
                if (mb >= 0) {
                    return mb;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new TypeConversionException("\"" + value + "\" is not a size in megabytes (0 or more)");
        }
    }

    /** klog's severities, by name or number: INFO (0), WARNING (1), ERROR (2), FATAL (3); as logback level names. */
    static final class SeverityConverter implements ITypeConverter<String> {
        private static final List<String> NAMES = List.of("INFO", "WARNING", "ERROR", "FATAL");

        @Override
        public String convert(String value) {
            String v = value.trim().toUpperCase(Locale.ROOT);
            int i = NAMES.indexOf(v);
            if (i < 0 && v.matches("[0-3]")) {
                i = Integer.parseInt(v);
            }
            if (i < 0) {
                throw new TypeConversionException("\"" + value + "\" is not a severity (INFO, WARNING, ERROR, FATAL or 0-3)");
            }
            return List.of("INFO", "WARN", "ERROR", "ERROR").get(i);
        }
    }

    /** klog's --log-backtrace-at: empty, or file:line with a positive line. */
    static final class TraceLocationConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (value.isEmpty()) {
                return value;
            }
            String[] f = value.split(":", -1);
            if (f.length == 2 && f[0].contains(".") && f[1].matches("[0-9]{1,9}") && Integer.parseInt(f[1]) > 0) {
                return value;
            }
            throw new TypeConversionException("\"" + value + "\" is not file.go:line");
        }
    }
}
