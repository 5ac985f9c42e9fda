package dev.ferry.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Upstream's command-line syntax beyond --flag=value: "_" and "-" alike in names, bare IPs for the
 * bind addresses, the deprecated port flags, --version's values, the commands in --help and
 * "did you mean", and one warning per flag that ferry accepts without doing what upstream does.
 */
class UpstreamFlagSyntaxTest {

    @TempDir
    Path dir;

    @AfterEach
    void resetLogging() {
        Logging.reset();
    }

    static ProxyOptions parse(String... args) {
        return ProxyOptionsTest.parse(args);
    }

    @Test
    void underscoresAndDashesAreTheSameInFlagNames() {
        ProxyOptions o = parse("--hostname_override=My_Node", "--iptables_sync_period", "45s", "--masquerade_all",
                "--log_file=/tmp/a_b.log", "--logtostderr=false", "--kube_api_qps=7");
        assertEquals("my_node", o.hostname(), "the value keeps its underscore");
        assertEquals(Duration.ofSeconds(45), o.syncPeriod);
        assertTrue(o.masqueradeAll);
        assertEquals(Path.of("/tmp/a_b.log"), o.klog.output().file());
        assertTrue(o.given("--kube-api-qps"));
    }

    @Test
    void aBindAddressMayBeAnIpAloneWithTheServersPort() {
        ProxyOptions o = parse("--healthz-bind-address=127.0.0.1", "--metrics-bind-address=::1");
        assertEquals("127.0.0.1:10256", o.healthzBindAddress.toString());
        assertEquals("[::1]:10249", o.metricsBindAddress.toString());
        o = parse("--healthz-bind-address", "10.0.0.1:8080", "--metrics-bind-address", "");
        assertEquals("10.0.0.1:8080", o.healthzBindAddress.toString());
        assertNull(o.metricsBindAddress, "empty turns the server off");
    }

    @Test
    void theDeprecatedPortFlagsWorkAsUpstreamsAndSaySoOnce() {
        ProxyOptions off = parse("--healthz-port=0", "--metrics-port", "0");
        assertNull(off.healthzBindAddress);
        assertNull(off.metricsBindAddress);
        assertEquals(2, off.warnings().stream().filter(w -> w.contains("is deprecated") && w.contains("0 turns the server off"))
                .count(), off.warnings().toString());

        ProxyOptions completes = parse("--healthz-bind-address=127.0.0.2", "--healthz-port=12345");
        assertEquals("127.0.0.2:12345", completes.healthzBindAddress.toString());

        ProxyOptions hasPort = parse("--metrics-port=9999");
        assertEquals("127.0.0.1:10249", hasPort.metricsBindAddress.toString(), "the default has a port: upstream keeps it");
        assertTrue(hasPort.warnings().stream().anyMatch(w -> w.startsWith("--metrics-port is deprecated") && w.contains("no effect")),
                hasPort.warnings().toString());

        ProxyOptions withWrite = parse("--healthz-port=0", "--write-config-to=" + dir.resolve("w.yaml"));
        assertEquals("0.0.0.0:10256", withWrite.healthzBindAddress.toString(), "ignored with a config file, as upstream");

        String help = ProxyOptionsTest.main("--help").out();
        assertFalse(help.contains("--healthz-port") || help.contains("--metrics-port"), "hidden, as pflag hides deprecated flags");
    }

    @Test
    void bindAddressIsTheNodesPrimaryIpUnlessUnspecified() {
        assertEquals("10.0.0.5", parse("--bind-address=10.0.0.5").primaryAddressOverride().getHostAddress());
        assertNull(parse().primaryAddressOverride(), "0.0.0.0: the Node's");
        assertNull(parse("--bind-address=::").primaryAddressOverride(), ":: too");
    }

    @Test
    void bindAddressChoosesTheNodePortAddressForPrimary() throws IOException {
        InetAddress local = dev.ferry.netfilter.LocalAddresses.ofThisMachine().addresses().stream()
                .filter(a -> a instanceof java.net.Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
                .findFirst().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(local != null, "this machine has no IPv4 address but loopback");
        String[] common = {"--manifests=../examples/manifests", "--hostname-override=node-1", "--dry-run", "--once",
                "--nodeport-addresses=primary"};
        ProxyOptionsTest.Run withOverride = ProxyOptionsTest.main(Stream.concat(Stream.of(common),
                Stream.of("--bind-address=" + local.getHostAddress())).toArray(String[]::new));
        assertEquals(0, withOverride.status(), withOverride.err());
        assertTrue(withOverride.out().contains("-d " + local.getHostAddress() + " -j KUBE-NODEPORTS"),
                "NodePorts on the --bind-address only:\n" + withOverride.out());
        ProxyOptionsTest.Run without = ProxyOptionsTest.main(common);
        assertEquals(0, without.status(), without.err());
        assertTrue(without.out().contains("--dst-type LOCAL -j KUBE-NODEPORTS"),
                "the example Node lists no address: no primary IP, so every local address, as upstream:\n" + without.out());
    }

    @Test
    void versionTakesUpstreamsValues() {
        ProxyOptionsTest.Run raw = ProxyOptionsTest.main("--version=raw");
        assertEquals(0, raw.status());
        assertTrue(raw.out().startsWith("ferry-proxy "), raw.out());
        assertTrue(ProxyOptionsTest.main("--version").out().startsWith("ferry-proxy "));
        ProxyOptionsTest.Run bad = ProxyOptionsTest.main("--version=v1.2.3");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--version"), bad.err());
        assertFalse(parse("--version=false").versionRequested());
    }

    @Test
    void helpListsTheCommandsAndHelpShowsEach() {
        String help = ProxyOptionsTest.main("--help").out();
        assertTrue(help.contains("Commands:") && help.contains("  inspect ") && help.contains("  trace ")
                && help.contains("  help "), help);
        ProxyOptionsTest.Run h = ProxyOptionsTest.main("help");
        assertEquals(0, h.status());
        assertEquals(help, h.out(), "help is --help");
        ProxyOptionsTest.Run inspect = ProxyOptionsTest.main("help", "inspect");
        assertEquals(0, inspect.status(), inspect.err());
        assertTrue(inspect.out().contains("Usage: proxy.jar inspect") && inspect.out().contains("services"), inspect.out());
        ProxyOptionsTest.Run trace = ProxyOptionsTest.main("help", "trace");
        assertEquals(0, trace.status(), trace.err());
        assertTrue(trace.out().contains("--src"), trace.out());
    }

    @Test
    void aMistypedFlagOrCommandGetsTheNearestSuggested() {
        ProxyOptionsTest.Run flag = ProxyOptionsTest.main("--hostname-overide=node-1");
        assertEquals(2, flag.status());
        assertTrue(flag.err().contains("Did you mean --hostname-override?"), flag.err());
        ProxyOptionsTest.Run underscored = ProxyOptionsTest.main("--cluster_cdir=10.0.0.0/8");
        assertTrue(underscored.err().contains("Did you mean --cluster-cidr?"), underscored.err());
        for (String[] typo : new String[][] {{"--conntrak-min=5", "--conntrack-min"},
                {"--conntrack-max-percore=5", "--conntrack-max-per-core"}, {"--proxymode", "--proxy-mode"},
                {"--healtz-bind-address=0.0.0.0:10256", "--healthz-bind-address"}}) {
            ProxyOptionsTest.Run run = ProxyOptionsTest.main(typo[0]);
            assertTrue(run.err().contains("Did you mean " + typo[1] + "?"), typo[0] + ": " + run.err());
        }
        ProxyOptionsTest.Run farOff = ProxyOptionsTest.main("--enable-turbo");
        assertEquals(2, farOff.status());
        assertFalse(farOff.err().contains("Did you mean"), "nothing close, nothing suggested: " + farOff.err());
        ProxyOptionsTest.Run command = ProxyOptionsTest.main("insepct", "services");
        assertEquals(2, command.status());
        assertTrue(command.err().contains("Did you mean inspect?"), command.err());
        ProxyOptionsTest.Run helpOf = ProxyOptionsTest.main("help", "trcae");
        assertEquals(2, helpOf.status());
        assertTrue(helpOf.err().contains("Did you mean trace?"), helpOf.err());
        ProxyOptionsTest.Run late = ProxyOptionsTest.main("--v=2", "inspect");
        assertEquals(2, late.status());
        assertTrue(late.err().contains("must come first"), late.err());
    }

    @Test
    void checksAsUpstreamNamingTheFlag() {
        for (String[] c : new String[][] {
                {"--kube-api-burst=-1", "--kube-api-burst"},
                {"--kube-api-qps=fast", "--kube-api-qps"},
                {"--config-sync-period=0s", "--config-sync-period: must be greater than 0"},
                {"--show-hidden-metrics-for-version=1.30", "must be omitted or have the value '1.33'"},
                {"--vmodule=proxier", "\"proxier\" does not have the pattern=N format"},
                {"--log-text-split-stream", "--log-text-split-stream: feature gate LoggingAlphaOptions is disabled"},
                {"--log-json-info-buffer-size=ten", "not a quantity"},
                {"--stderrthreshold=LOUD", "not a severity"},
                {"--log-backtrace-at=nowhere", "not file.go:line"},
                {"--healthz-port=70000", "not a port"}}) {
            ProxyOptionsTest.Run r = ProxyOptionsTest.main(c[0], "--dry-run", "--once", "--manifests=../examples/manifests");
            assertEquals(2, r.status(), c[0] + ": " + r.err());
            assertTrue(r.err().contains(c[1]), c[0] + ": " + r.err());
        }
        ProxyOptionsTest.Run json = ProxyOptionsTest.main("--logging-format=json", "--vmodule=a=1", "--manifests=../examples/manifests");
        assertTrue(json.err().contains("--vmodule: only supported for the text log format"), json.err());
        ProxyOptionsTest.Run noBeta = ProxyOptionsTest.main("--logging-format=json", "--feature-gates=LoggingBetaOptions=false");
        assertTrue(noBeta.err().contains("log format json is disabled"), noBeta.err());
    }

    @Test
    void eachAcceptedFlagWarnsOnceSayingWhatFerryDoesInstead() throws IOException {
        Logger main = (Logger) LoggerFactory.getLogger(Main.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        main.addAppender(logs);
        ProxyOptionsTest.Run r;
        try {
            r = ProxyOptionsTest.main("--kube-api-qps=20", "--kube_api_qps=30", "--kube-api-burst=40",
                    "--kube-api-content-type=application/vnd.kubernetes.protobuf", "--profiling", "--log-flush-frequency=1s",
                    "--vmodule=proxier=4", "--show-hidden-metrics-for-version=1.33", "--alsologtostderr", "--add-dir-header",
                    "--skip-headers", "--skip-log-headers", "--one-output", "--log-backtrace-at=proxier.go:1",
                    "--boot-id-file=/x", "--machine-id-file=/y", "--resource-container=", "--stderrthreshold=INFO",
                    "--log-dir=/tmp", "--log-file-max-size=10", "--feature-gates=NFTablesProxyMode=true",
                    "--write-config-to=" + dir.resolve("w.yaml"));
        } finally {
            main.detachAppender(logs);
        }
        assertEquals(0, r.status(), r.err());
        List<String> warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
        List<String> expected = List.of("--kube-api-qps", "--kube-api-content-type", "--profiling", "--log-flush-frequency",
                "--vmodule", "--show-hidden-metrics-for-version", "--alsologtostderr", "--add-dir-header", "--skip-headers",
                "--skip-log-headers", "--one-output", "--log-backtrace-at", "--boot-id-file", "--machine-id-file",
                "--resource-container", "--stderrthreshold", "--log-dir", "--log-file-max-size", "--feature-gates");
        List<String> problems = new ArrayList<>();
        for (String flag : expected) {
            long n = warnings.stream().filter(w -> w.startsWith(flag + " ") || w.startsWith(flag + ":") || w.startsWith(flag + "="))
                    .count();
            if (n != 1) {
                problems.add(flag + ": " + n + " warnings");
            }
        }
        assertEquals(List.of(), problems, warnings.toString());
        assertEquals(expected.size(), warnings.size(), "nothing else: " + warnings);
        assertTrue(warnings.stream().anyMatch(w -> w.contains("jcmd <pid> JFR.start")), "says what to use instead of pprof");
        // upstream's defaults given explicitly and values that do what upstream does are not warned about
        logs.list.clear();
        main.addAppender(logs);
        try {
            ProxyOptionsTest.main("--kube-api-content-type=application/json", "--profiling=false", "--logtostderr=true",
                    "--show-hidden-metrics-for-version=", "--write-config-to=" + dir.resolve("w2.yaml"));
        } finally {
            main.detachAppender(logs);
        }
        List<String> second = logs.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(1, second.size(), "only --logtostderr, a removed flag: " + second);
    }

    @Test
    void klogsFileFlagsWriteTheLogToTheFile() throws IOException {
        Path file = dir.resolve("logs").resolve("kube-proxy.log");
        ProxyOptionsTest.Run r = ProxyOptionsTest.main("--logtostderr=false", "--log-file=" + file, "--kube-api-qps=9",
                "--write-config-to=" + dir.resolve("w.yaml"));
        assertEquals(0, r.status(), r.err());
        String log = Files.readString(file);
        assertTrue(log.contains("--kube-api-qps is accepted and not applied"), log);
        assertTrue(log.contains("wrote the configuration to"), log);

        Path inDir = dir.resolve("d");
        Files.createDirectories(inDir);
        ProxyOptions o = parse("--logtostderr=false", "--log-dir=" + inDir, "--log-file-max-size=1");
        assertEquals(inDir.resolve("kube-proxy.log"), o.klog.output().file(), "one file in --log-dir");
        assertEquals(1, o.klog.output().maxSizeMb());
        assertEquals("ERROR", o.klog.output().stderrThreshold(), "klog's default threshold for standard error");
        assertNull(parse("--logtostderr=false", "--alsologtostderr").klog.output().stderrThreshold(), "every line");
        assertNull(parse("--log-file=/tmp/x").klog.output().file(), "no effect while --logtostderr is true, as klog");
    }

    @Test
    void theRemovedFlagsAreHiddenFromHelp() {
        String help = ProxyOptionsTest.main("--help").out();
        for (String flag : Stream.of("--logtostderr", "--alsologtostderr", "--log-file", "--log-dir", "--stderrthreshold",
                "--boot-id-file", "--machine-id-file", "--resource-container").toList()) {
            assertFalse(help.contains(flag + " ") || help.contains(flag + "="), flag + " is listed:\n" + help);
        }
    }

    @Test
    void theConfigFilesNewFieldsGiveWayToFlags() throws IOException {
        Path config = Files.writeString(dir.resolve("c.yaml"), """
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                kind: KubeProxyConfiguration
                clientConnection: {qps: 7, burst: 3}
                configSyncPeriod: 5m
                featureGates: {LoggingAlphaOptions: true}
                logging: {verbosity: 3, flushFrequency: 2s}
                bindAddress: 10.1.2.3
                """);
        ProxyOptions fileOnly = applied("--config=" + config);
        assertEquals(Duration.ofMinutes(5), fileOnly.apiClient.configSyncPeriod());
        assertTrue(fileOnly.featureGates.gates().enabled("LoggingAlphaOptions"));
        assertEquals(3, fileOnly.logging.verbosity());
        assertEquals(InetAddress.getByName("10.1.2.3"), fileOnly.primaryAddressOverride());
        ProxyOptions flags = applied("--config=" + config, "--config-sync-period=1m", "--feature-gates=ContextualLogging=false",
                "-v=1", "--bind-address=0.0.0.0");
        assertEquals(Duration.ofMinutes(1), flags.apiClient.configSyncPeriod());
        assertFalse(flags.featureGates.gates().enabled("LoggingAlphaOptions"), "the flag's gates replace the file's");
        assertEquals(1, flags.logging.verbosity());
        assertNull(flags.primaryAddressOverride());
    }

    /** Parses {@code args} and applies the config file as Main does. */
    private static ProxyOptions applied(String... args) {
        ProxyOptions o = new ProxyOptions();
        var parsed = o.parse(args);
        try {
            var file = dev.ferry.proxy.config.KubeProxyConfigFile.load(o.configFile);
            for (var a : dev.ferry.proxy.config.ConfigFlags.apply(file, o.commandLine().getCommandSpec(), parsed)) {
                if (!a.overriddenByFlag()) {
                    o.setFromFile(a.setting().flag(), a.setting().field(), file.source());
                }
            }
        } catch (dev.ferry.proxy.config.ConfigFileException e) {
            throw new AssertionError(e);
        }
        o.validate();
        return o;
    }
}
