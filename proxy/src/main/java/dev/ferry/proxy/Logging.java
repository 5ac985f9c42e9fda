package dev.ferry.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps -v to log levels (logback.xml sends everything to standard error). */
final class Logging {

    private Logging() {
    }

    /** 0..1 info, 2..3 debug for our packages, 4 and more trace; libraries stay at info (debug from 6). */
    static void setVerbosity(int v) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext)) {
            return; // another SLF4J binding (e.g. in someone's test setup): leave it alone
        }
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.getLogger("dev.ferry").setLevel(v >= 4 ? Level.TRACE : v >= 2 ? Level.DEBUG : Level.INFO);
        ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(v >= 6 ? Level.DEBUG : Level.INFO);
    }
}
