package dev.ferry.proxy.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.mode.FlagNames;
import dev.ferry.netfilter.KernelSettingException;
import dev.ferry.netfilter.KernelSettingException.Reason;
import dev.ferry.netfilter.Sysctls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decisions and the log lines, on fake settings: what is written, when, and what is said. */
class NodeSetupTest {

    /** Settings in a map; a write to a name in {@code refuse} fails with that reason. */
    static final class FakeLayer implements Sysctls {
        final Map<String, Long> values = new HashMap<>();
        final Map<String, Reason> refuse = new HashMap<>();
        final List<String> writes = new ArrayList<>();

        FakeLayer with(String name, long value) {
            values.put(name, value);
            return this;
        }

        @Override
        public OptionalLong read(String name) {
            Long v = values.get(name);
            return v == null ? OptionalLong.empty() : OptionalLong.of(v);
        }

        @Override
        public void write(String name, long value) throws IOException {
            Reason r = refuse.get(name);
            if (r != null) {
                throw new KernelSettingException("sysctl " + name, value, r, "refused by the test (" + r + ")", null);
            }
            writes.add(name + "=" + value);
            values.put(name, value);
        }
    }

    private final FakeLayer procSys = new FakeLayer()
            .with(ConntrackSettings.MAX, 65536)
            .with("net/netfilter/nf_conntrack_tcp_timeout_established", 432000)
            .with("net/netfilter/nf_conntrack_tcp_timeout_close_wait", 60)
            .with("net/netfilter/nf_conntrack_tcp_be_liberal", 0)
            .with("net/netfilter/nf_conntrack_udp_timeout", 30)
            .with("net/netfilter/nf_conntrack_udp_timeout_stream", 120);
    private final FakeLayer module = new FakeLayer().with(ConntrackSettings.HASHSIZE, 16384);
    private final FakeLayer process = new FakeLayer().with(NodeSetup.OOM_SCORE_ADJ, 0);
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(NodeSetup.class);

    @BeforeEach
    void captureLogs() {
        logs.start();
        logger.addAppender(logs);
        logger.setLevel(Level.DEBUG);
    }

    @AfterEach
    void releaseLogs() {
        logger.detachAppender(logs);
        logger.setLevel(null);
    }

    private NodeSetup setup(int cpus, boolean applies) {
        return new NodeSetup(procSys, module, process, cpus, applies, FlagNames.AS_GIVEN);
    }

    private List<String> lines(Level level) {
        return logs.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void upstreamsDefaultsOnATwoCpuNode() {
        NodeSetup.Result r = setup(2, true).conntrack(ConntrackSettingsTest.defaults());
        assertEquals(List.of("net/netfilter/nf_conntrack_max=131072", "hashsize=32768",
                "net/netfilter/nf_conntrack_tcp_timeout_established=86400",
                "net/netfilter/nf_conntrack_tcp_timeout_close_wait=3600"), writes());
        assertEquals(new NodeSetup.Result(4, 0), r);
        assertEquals(List.of(
                "set sysctl net/netfilter/nf_conntrack_max=131072 (was 65536): --conntrack-max-per-core 32768 × 2 CPUs "
                        + "is below --conntrack-min 131072",
                "set /sys/module/nf_conntrack/parameters/hashsize=32768 (was 16384): a quarter of nf_conntrack_max 131072",
                "set sysctl net/netfilter/nf_conntrack_tcp_timeout_established=86400 (was 432000): "
                        + "--conntrack-tcp-timeout-established",
                "set sysctl net/netfilter/nf_conntrack_tcp_timeout_close_wait=3600 (was 60): --conntrack-tcp-timeout-close-wait"),
                lines(Level.INFO), "one info line per value changed");
        assertEquals(List.of(), lines(Level.WARN));
    }

    @Test
    void valuesAlreadyInPlaceAreNotWrittenNorLoggedAtInfo() {
        procSys.with(ConntrackSettings.MAX, 163840).with("net/netfilter/nf_conntrack_tcp_timeout_established", 86400)
                .with("net/netfilter/nf_conntrack_tcp_timeout_close_wait", 3600);
        module.with(ConntrackSettings.HASHSIZE, 40960);
        NodeSetup.Result r = setup(5, true).conntrack(ConntrackSettingsTest.defaults());
        assertEquals(List.of(), writes());
        assertEquals(new NodeSetup.Result(0, 0), r);
        assertEquals(List.of(), lines(Level.INFO));
        assertTrue(lines(Level.DEBUG).contains("sysctl net/netfilter/nf_conntrack_max is already 163840 "
                + "(--conntrack-max-per-core 32768 × 5 CPUs)"), lines(Level.DEBUG).toString());
    }

    @Test
    void aHigherLimitIsLoweredAsV134DoesButTheHashTableNeverShrinks() {
        procSys.with(ConntrackSettings.MAX, 1048576);
        module.with(ConntrackSettings.HASHSIZE, 262144);
        setup(2, true).conntrack(ConntrackSettingsTest.sized(32768, 131072));
        assertEquals(List.of("net/netfilter/nf_conntrack_max=131072"), writes());
        assertEquals(262144, module.values.get(ConntrackSettings.HASHSIZE));
    }

    @Test
    void zeroPerCoreLeavesTheLimitAndTheHashTableAloneWhateverTheMinimum() {
        setup(2, true).conntrack(ConntrackSettingsTest.sized(0, 10_000_000));
        assertEquals(List.of(), writes());
        assertEquals(List.of(), lines(Level.INFO));
    }

    @Test
    void onlyTheSettingsAskedForAreWritten() {
        setup(2, true).conntrack(new ConntrackSettings(0, 0, Duration.ZERO, Duration.ZERO, true, Duration.ofSeconds(45),
                Duration.ZERO));
        assertEquals(List.of("net/netfilter/nf_conntrack_tcp_be_liberal=1", "net/netfilter/nf_conntrack_udp_timeout=45"),
                writes());
    }

    @Test
    void aValueThatCannotBeSetIsOneWarningSayingWhyAndTheRestStillApply() {
        procSys.refuse.put(ConntrackSettings.MAX, Reason.HOST_NETWORK_NAMESPACE_ONLY);
        NodeSetup.Result r = setup(2, true).conntrack(ConntrackSettingsTest.defaults());
        assertEquals(new NodeSetup.Result(2, 1), r);
        assertFalse(r.ok());
        assertEquals(List.of("net/netfilter/nf_conntrack_tcp_timeout_established=86400",
                "net/netfilter/nf_conntrack_tcp_timeout_close_wait=3600"), writes(), "no hashsize without the limit, as upstream");
        assertEquals(List.of("cannot set sysctl net/netfilter/nf_conntrack_max=131072: refused by the test "
                + "(HOST_NETWORK_NAMESPACE_ONLY); it stays 65536; --conntrack-max-per-core=0 leaves it alone "
                + "(kube-proxy stops on this; ferry goes on)"), lines(Level.WARN));
    }

    @Test
    void eachFailureNamesTheFlagThatLeavesItsValueAlone() {
        procSys.refuse.put("net/netfilter/nf_conntrack_tcp_timeout_close_wait", Reason.READ_ONLY_FILE_SYSTEM);
        procSys.refuse.put("net/netfilter/nf_conntrack_tcp_be_liberal", Reason.PERMISSION_DENIED);
        setup(2, true).conntrack(new ConntrackSettings(0, 0, Duration.ZERO, Duration.ofHours(1), true, Duration.ZERO,
                Duration.ZERO));
        List<String> warnings = lines(Level.WARN);
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("; --conntrack-tcp-timeout-close-wait=0 leaves it alone"), warnings.get(0));
        assertTrue(warnings.get(1).contains("; --conntrack-tcp-be-liberal=false leaves it alone"), warnings.get(1));
    }

    @Test
    void aReadOnlySysLeavesTheHashTableAsUpstreamDoesWithoutStopping() {
        module.refuse.put(ConntrackSettings.HASHSIZE, Reason.READ_ONLY_FILE_SYSTEM);
        NodeSetup.Result r = setup(2, true).conntrack(ConntrackSettingsTest.sized(32768, 131072));
        assertEquals(new NodeSetup.Result(1, 1), r);
        String warning = lines(Level.WARN).get(0);
        assertTrue(warning.startsWith("cannot set sysctl hashsize=32768: refused by the test (READ_ONLY_FILE_SYSTEM); "
                + "it stays 16384"), warning);
        assertFalse(warning.contains("kube-proxy stops"), "upstream sends a Warning event and goes on: " + warning);
    }

    @Test
    void aMissingModuleIsSaidOnceForTheHashTable() {
        module.values.clear();
        NodeSetup.Result r = setup(2, true).conntrack(ConntrackSettingsTest.sized(32768, 131072));
        assertEquals(1, r.failed());
        assertEquals(List.of("cannot read /sys/module/nf_conntrack/parameters/hashsize: it does not exist (the "
                + "nf_conntrack module is not loaded); the conntrack hash table keeps its size"), lines(Level.WARN));
    }

    @Test
    void aDryRunReadsAndSaysWhatItWouldSetWritingNothing() {
        NodeSetup dry = setup(2, false);
        NodeSetup.Result r = dry.conntrack(ConntrackSettingsTest.defaults()).plus(dry.oomScore(-999));
        assertEquals(List.of(), writes());
        assertEquals(new NodeSetup.Result(5, 0), r);
        assertEquals("dry run: would set sysctl net/netfilter/nf_conntrack_max=131072 (now 65536): --conntrack-max-per-core "
                + "32768 × 2 CPUs is below --conntrack-min 131072", lines(Level.INFO).get(0));
        assertEquals("dry run: would set oom_score_adj=-999 (now 0): --oom-score-adj", lines(Level.INFO).get(4));
    }

    @Test
    void oomScoreIsWrittenWhenItDiffersAndAFailureSaysWhy() {
        setup(2, true).oomScore(-999);
        assertEquals(List.of("oom_score_adj=-999"), process.writes);
        assertEquals(List.of("set oom_score_adj=-999 (was 0): --oom-score-adj"), lines(Level.INFO));
        assertEquals(new NodeSetup.Result(0, 0), setup(2, true).oomScore(-999), "already so");

        process.refuse.put(NodeSetup.OOM_SCORE_ADJ, Reason.PERMISSION_DENIED);
        assertEquals(new NodeSetup.Result(0, 1), setup(2, true).oomScore(-1000));
        String warning = lines(Level.WARN).get(0);
        assertTrue(warning.endsWith("; it stays -999; setting --oom-score-adj to the current value leaves it alone"), warning);
    }

    @Test
    void messagesNameTheConfigFieldAValueCameFrom() {
        FlagNames names = flag -> flag.equals("--conntrack-max-per-core") ? "field conntrack.maxPerCore (config file c)" : flag;
        procSys.refuse.put(ConntrackSettings.MAX, Reason.PERMISSION_DENIED);
        new NodeSetup(procSys, module, process, 8, true, names).conntrack(ConntrackSettingsTest.defaults());
        assertTrue(lines(Level.WARN).get(0).contains("field conntrack.maxPerCore (config file c)=0 leaves it alone"),
                lines(Level.WARN).toString());
    }

    @Test
    void cpuListsAreCountedAsTheKernelWritesThem() {
        assertEquals(1, NodeSetup.parseCpuList("0\n"));
        assertEquals(2, NodeSetup.parseCpuList("0-1\n"));
        assertEquals(7, NodeSetup.parseCpuList("0-3,6,8-9"));
        assertThrows(IllegalArgumentException.class, () -> NodeSetup.parseCpuList("3-1"));
        assertThrows(IllegalArgumentException.class, () -> NodeSetup.parseCpuList("x"));
    }

    @Test
    void cpusAreTheMachinesOnlineOnesOrTheJvmsWhenUnreadable(@TempDir Path dir) throws IOException {
        Path online = Files.writeString(dir.resolve("online"), "0-63\n");
        assertEquals(64, NodeSetup.onlineCpus(online));
        assertEquals(Runtime.getRuntime().availableProcessors(), NodeSetup.onlineCpus(dir.resolve("missing")));
        assertTrue(NodeSetup.onlineCpus(Path.of(NodeSetup.ONLINE_CPUS)) >= 1, "this machine's");
    }

    private List<String> writes() {
        List<String> all = new ArrayList<>(procSys.writes);
        all.addAll(Math.min(1, all.size()), module.writes); // the hash table right after the limit, as applied
        return all;
    }
}
