package dev.ferry.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.spi.FilterReply;
import ch.qos.logback.core.util.FileSize;
import dev.ferry.proxy.flags.KlogFlags.LogOutput;
import dev.ferry.proxy.flags.LoggingFlags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps the logging flags onto logback (logback.xml sends everything to standard error through the
 * appender {@value #APPENDER}).
 *
 * <p>Verbosity, as klog's levels map onto ours: 0..1 info, 2..3 debug for our packages, 4 and
 * more trace; libraries stay at info (debug from 6).
 *
 * <p>Format: text is logback.xml's pattern; json is logback's own JsonEncoder, one object per
 * line with timestamp (epoch ms), level, threadName, loggerName, formattedMessage, kvpList (the
 * SLF4J key-value pairs) and throwable.
 *
 * <p>Outputs: klog's removed file flags (--logtostderr=false, --log-file, ...) add the appender
 * {@value #FILE_APPENDER} and may raise standard error's threshold; a split stream
 * (--log-text-split-stream, --log-json-split-stream) sends what is below ERROR to standard output
 * through {@value #STDOUT_APPENDER}, except in a dry run, whose output is standard output.
 *
 * <p>Called from the main thread at startup, before other threads log; calling it again replaces
 * what an earlier call set (tests do).
 */
final class Logging {

    static final String APPENDER = "STDERR";
    static final String FILE_APPENDER = "FILE";
    static final String STDOUT_APPENDER = "STDOUT";

    /** logback.xml's encoder, kept to switch back from json (tests do) and to copy its pattern. */
    private static Encoder<ILoggingEvent> textEncoder;

    private Logging() {
    }

    static void configure(int verbosity, String format) {
        setVerbosity(verbosity);
        setFormat(format);
    }

    /**
     * Verbosity, format and outputs as the flags say.
     *
     * @throws IllegalStateException naming the file when the log file cannot be opened
     */
    static synchronized void configure(LoggingFlags flags, LogOutput output, boolean dryRun) {
        reset();
        configure(flags.verbosity(), flags.format());
        LoggerContext ctx = context();
        if (ctx == null || !(stderr(ctx) instanceof OutputStreamAppender<ILoggingEvent> err)) {
            return; // someone else's logback configuration: leave it alone
        }
        ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        boolean json = flags.format().equals("json");
        if (output.file() != null) {
            root.addAppender(fileAppender(ctx, output, json));
        }
        if (output.stderrThreshold() != null) {
            err.addFilter(threshold(ctx, output.stderrThreshold()));
        }
        if (flags.splitStream() && !dryRun) {
            err.addFilter(threshold(ctx, "ERROR"));
            ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
            out.setContext(ctx);
            out.setName(STDOUT_APPENDER);
            out.setTarget("System.out");
            out.setEncoder(encoder(ctx, json));
            out.addFilter(new BelowError());
            out.start();
            root.addAppender(out);
        }
    }

    /** Back to logback.xml's setup: standard error only, text, verbosity 0 (tests call it after theirs). */
    static synchronized void reset() {
        configure(0, "text");
        LoggerContext ctx = context();
        if (ctx == null || !(stderr(ctx) instanceof OutputStreamAppender<ILoggingEvent> err)) {
            return;
        }
        ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        for (String name : new String[] {FILE_APPENDER, STDOUT_APPENDER}) {
            Appender<ILoggingEvent> old = root.getAppender(name);
            if (old != null) {
                root.detachAppender(old);
                old.stop();
            }
        }
        err.clearAllFilters();
    }

    static void setVerbosity(int v) {
        LoggerContext ctx = context();
        if (ctx == null) {
            return;
        }
        ctx.getLogger("dev.ferry").setLevel(v >= 4 ? Level.TRACE : v >= 2 ? Level.DEBUG : Level.INFO);
        ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(v >= 6 ? Level.DEBUG : Level.INFO);
    }

    /** "text" or "json" (checked by the flag's converter). */
    static synchronized void setFormat(String format) {
        LoggerContext ctx = context();
        if (ctx == null) {
            return;
        }
        if (!(stderr(ctx) instanceof OutputStreamAppender<ILoggingEvent> out)) {
            return; // someone else's logback configuration: leave it alone
        }
        boolean json = "json".equals(format);
        if (json == out.getEncoder() instanceof JsonEncoder) {
            return;
        }
        if (json) {
            textEncoder = out.getEncoder();
            out.setEncoder(jsonEncoder(ctx));
        } else if (textEncoder != null) {
            out.setEncoder(textEncoder);
        }
    }

    static JsonEncoder jsonEncoder(LoggerContext ctx) {
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(ctx);
        encoder.setWithSequenceNumber(false);
        encoder.setWithNanoseconds(false);
        encoder.setWithContext(false);
        encoder.setWithMDC(false);
        encoder.setWithMarkers(false);
        encoder.setWithMessage(false); // the pattern; formattedMessage has it filled in
        encoder.setWithArguments(false);
        encoder.setWithFormattedMessage(true);
        encoder.start();
        return encoder;
    }

    /** A new encoder of the chosen format for another appender (an encoder belongs to one appender). */
    private static Encoder<ILoggingEvent> encoder(LoggerContext ctx, boolean json) {
        if (json) {
            return jsonEncoder(ctx);
        }
        PatternLayoutEncoder e = new PatternLayoutEncoder();
        e.setContext(ctx);
        Encoder<ILoggingEvent> text = textEncoder != null ? textEncoder : ((OutputStreamAppender<ILoggingEvent>) stderr(ctx)).getEncoder();
        e.setPattern(text instanceof PatternLayoutEncoder p ? p.getPattern() : "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0}: %msg%n");
        e.start();
        return e;
    }

    /** The log file: appended to; rolled over to FILE.1 (one previous file kept) at the maximum size, if any. */
    private static FileAppender<ILoggingEvent> fileAppender(LoggerContext ctx, LogOutput output, boolean json) {
        String file = output.file().toString();
        FileAppender<ILoggingEvent> appender;
        if (output.maxSizeMb() > 0) {
            RollingFileAppender<ILoggingEvent> rolling = new RollingFileAppender<>();
            FixedWindowRollingPolicy policy = new FixedWindowRollingPolicy();
            policy.setContext(ctx);
            policy.setParent(rolling);
            policy.setFileNamePattern(file + ".%i");
            policy.setMinIndex(1);
            policy.setMaxIndex(1);
            SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
            trigger.setContext(ctx);
            trigger.setMaxFileSize(new FileSize(output.maxSizeMb() * FileSize.MB_COEFFICIENT));
            rolling.setRollingPolicy(policy);
            rolling.setTriggeringPolicy(trigger);
            appender = rolling;
            appender.setContext(ctx);
            appender.setFile(file);
            policy.start();
            trigger.start();
        } else {
            appender = new FileAppender<>();
            appender.setContext(ctx);
            appender.setFile(file);
        }
        appender.setName(FILE_APPENDER);
        appender.setAppend(true);
        appender.setEncoder(encoder(ctx, json));
        appender.start();
        if (!appender.isStarted()) {
            throw new IllegalStateException("cannot open the log file " + file + " (--log-file, --log-dir)");
        }
        return appender;
    }

    private static ThresholdFilter threshold(LoggerContext ctx, String level) {
        ThresholdFilter f = new ThresholdFilter();
        f.setContext(ctx);
        f.setLevel(level);
        f.start();
        return f;
    }

    /** What goes to standard output in a split stream: everything below ERROR. */
    private static final class BelowError extends Filter<ILoggingEvent> {
        BelowError() {
            start();
        }

        @Override
        public FilterReply decide(ILoggingEvent event) {
            return event.getLevel().isGreaterOrEqual(Level.ERROR) ? FilterReply.DENY : FilterReply.NEUTRAL;
        }
    }

    private static Appender<ILoggingEvent> stderr(LoggerContext ctx) {
        return ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(APPENDER);
    }

    private static LoggerContext context() {
        // another SLF4J binding (e.g. in someone's test setup): leave it alone
        return LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx ? ctx : null;
    }
}
