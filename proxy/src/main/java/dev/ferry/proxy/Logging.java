package dev.ferry.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps -v and --logging-format onto logback (logback.xml sends everything to standard error
 * through the appender {@value #APPENDER}).
 *
 * <p>Verbosity, as klog's levels map onto ours: 0..1 info, 2..3 debug for our packages, 4 and
 * more trace; libraries stay at info (debug from 6). fabric8's informer logs a stack trace with
 * each failed list; the API source logs each failure in one line already (with the stack from
 * 4 on), so that logger speaks only from 6.
 *
 * <p>Format: text is logback.xml's pattern; json is logback's own JsonEncoder, one object per
 * line with timestamp (epoch ms), level, threadName, loggerName, formattedMessage, kvpList (the
 * SLF4J key-value pairs) and throwable. Called from the main thread at startup, before other
 * threads log.
 */
final class Logging {

    static final String APPENDER = "STDERR";

    /** fabric8's list-and-watch loop (a warning with a stack trace per failed attempt). */
    static final String INFORMER_REFLECTOR = "io.fabric8.kubernetes.client.informers.impl.cache.Reflector";

    /** logback.xml's encoder, kept to switch back from json (tests do). */
    private static Encoder<ILoggingEvent> textEncoder;

    private Logging() {
    }

    static void configure(int verbosity, String format) {
        setVerbosity(verbosity);
        setFormat(format);
    }

    static void setVerbosity(int v) {
        LoggerContext ctx = context();
        if (ctx == null) {
            return;
        }
        ctx.getLogger("dev.ferry").setLevel(v >= 4 ? Level.TRACE : v >= 2 ? Level.DEBUG : Level.INFO);
        ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(v >= 6 ? Level.DEBUG : Level.INFO);
        ctx.getLogger(INFORMER_REFLECTOR).setLevel(v >= 6 ? null : Level.ERROR);
    }

    /** "text" or "json" (checked by the flag's converter). */
    static synchronized void setFormat(String format) {
        LoggerContext ctx = context();
        if (ctx == null) {
            return;
        }
        Appender<ILoggingEvent> appender = ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(APPENDER);
        if (!(appender instanceof OutputStreamAppender<ILoggingEvent> out)) {
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

    private static LoggerContext context() {
        // another SLF4J binding (e.g. in someone's test setup): leave it alone
        return LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx ? ctx : null;
    }
}
