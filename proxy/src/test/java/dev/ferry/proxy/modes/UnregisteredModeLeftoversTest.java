package dev.ferry.proxy.modes;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.mode.ProxyMode;
import dev.ferry.nftables.KubeProxyTables;
import dev.ferry.proxy.Main;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hook's decisions, without touching this machine: a dry run only says what a real run deletes
 * (at start and under --cleanup), and a registered nftables mode takes the tables over. The real
 * deletions are shown in a namespace by NftablesKernelTest (nftables module) and NftablesLeftoversIT.
 */
class UnregisteredModeLeftoversTest {

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final List<Logger> loggers = List.of((Logger) LoggerFactory.getLogger(UnregisteredModeLeftovers.class),
            (Logger) LoggerFactory.getLogger(KubeProxyTables.class));

    @BeforeEach
    void capture() {
        logs.start();
        loggers.forEach(l -> l.addAppender(logs));
    }

    @AfterEach
    void release() {
        loggers.forEach(l -> l.detachAppender(logs));
    }

    @Test
    void aDryRunLooksAtNothingAndSaysWhatARealRunDeletes() {
        assertTrue(UnregisteredModeLeftovers.of(ProxyModes.builtIn()).remove(true));
        assertEquals(List.of("dry run: nftables table ip kube-proxy and table ip6 kube-proxy (an nftables-mode "
                + "kube-proxy's) are not looked at; a real run deletes them where they exist"), messages());
    }

    @Test
    void everyStartAndCleanupIncludesThemAndADryRunOfEitherExitsZero() {
        for (List<String> args : List.of(List.of("--cleanup", "--dry-run"), List.of("--proxy-mode=userspace", "--dry-run",
                "--once", "--manifests=../examples/manifests", "--hostname-override=node-a"))) {
            logs.list.clear();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
            assertEquals(0, Main.run(args.toArray(new String[0]), print, print, new CountDownLatch(1)),
                    out.toString(StandardCharsets.UTF_8));
            assertEquals(1, messages().stream().filter(m -> m.contains("table ip6 kube-proxy")).count(), args + ": " + messages());
        }
    }

    @Test
    void aRegisteredNftablesModeTakesTheTablesOver() {
        ProxyModes withNftables = new ProxyModes(List.of(ProxyModes.builtIn().defaultMode(), named("nftables")));
        assertTrue(UnregisteredModeLeftovers.of(withNftables).remove(false), "nothing to do is no failure");
        assertEquals(List.of(), messages(), "it neither deleted nor tried to");
    }

    private List<String> messages() {
        return logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** A mode that has only a name: enough for the registry's lookups. */
    private static ProxyMode named(String name) {
        return (ProxyMode) Proxy.newProxyInstance(ProxyMode.class.getClassLoader(), new Class<?>[] {ProxyMode.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "name" -> name;
                    case "toString" -> "mode " + name;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
