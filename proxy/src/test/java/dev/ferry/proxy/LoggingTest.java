package dev.ferry.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** -v and --logging-format on the real logback configuration (logback.xml's appender writes to System.err). */
class LoggingTest {

    private static final Logger log = LoggerFactory.getLogger("dev.ferry.proxy.LoggingTest");

    @AfterEach
    void back() {
        Logging.configure(0, "text");
    }

    /** What the appender writes while {@code body} runs. */
    private static String stderrOf(Runnable body) {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(saved);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonIsOneObjectPerLineWithLevelLoggerMessageAndKeyValues() throws Exception {
        Logging.configure(2, "json");
        String out = stderrOf(() -> {
            log.info("synced {} rules", 42);
            log.atDebug().setMessage("sync done").addKeyValue("durationMs", 12).addKeyValue("mode", "iptables").log();
            log.warn("it \"broke\"\nover two lines", new IllegalStateException("boom"));
            log.trace("not at -v=2");
        });
        List<String> lines = out.lines().toList();
        assertEquals(3, lines.size(), out);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        assertEquals("INFO", first.path("level").asText());
        assertEquals("dev.ferry.proxy.LoggingTest", first.path("loggerName").asText());
        assertEquals("synced 42 rules", first.path("formattedMessage").asText());
        assertTrue(first.path("timestamp").asLong() > 1_700_000_000_000L, lines.get(0));
        JsonNode second = json.readTree(lines.get(1));
        assertEquals("DEBUG", second.path("level").asText());
        assertEquals("12", second.path("kvpList").findValue("durationMs").asText(), lines.get(1));
        assertEquals("iptables", second.path("kvpList").findValue("mode").asText(), lines.get(1));
        JsonNode third = json.readTree(lines.get(2));
        assertEquals("it \"broke\"\nover two lines", third.path("formattedMessage").asText(), "escaped, on one line");
        assertEquals("boom", third.path("throwable").path("message").asText(), lines.get(2));
    }

    @Test
    void textIsTheDefaultAndShowsKeyValues() {
        Logging.configure(0, "json");
        Logging.configure(0, "text");
        String out = stderrOf(() -> {
            log.info("plain");
            log.atInfo().setMessage("with pairs").addKeyValue("service", "ns/svc:http").log();
        });
        List<String> lines = out.lines().toList();
        assertEquals(2, lines.size(), out);
        assertTrue(lines.get(0).endsWith(" INFO  [main] LoggingTest: plain"), lines.get(0));
        assertTrue(lines.get(1).endsWith("LoggingTest: with pairs service=\"ns/svc:http\""), lines.get(1));
    }

    @Test
    void verbosityMapsToLevels() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        int[] v = {0, 1, 2, 3, 4, 9};
        Level[] ours = {Level.INFO, Level.INFO, Level.DEBUG, Level.DEBUG, Level.TRACE, Level.TRACE};
        for (int i = 0; i < v.length; i++) {
            Logging.setVerbosity(v[i]);
            assertEquals(ours[i], ctx.getLogger("dev.ferry").getLevel(), "-v=" + v[i]);
        }
        Logging.setVerbosity(5);
        assertEquals(Level.INFO, ctx.getLogger(Logger.ROOT_LOGGER_NAME).getLevel(), "libraries stay at info");
        Logging.setVerbosity(6);
        assertEquals(Level.DEBUG, ctx.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
    }

    @Test
    void theFlagTakesTextOrJson() {
        ProxyOptionsTest.Run r = ProxyOptionsTest.main("--logging-format=xml");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("\"xml\" is not a log format (permitted: \"json\", \"text\")"), r.err());
    }
}
