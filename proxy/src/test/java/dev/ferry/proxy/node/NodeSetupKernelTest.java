package dev.ferry.proxy.node;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.mode.FlagNames;
import dev.ferry.netfilter.Sysctls;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The settings that are not per network namespace, on this machine's kernel without changing it:
 * the OOM score of a child process started here, and the conntrack hash table's size, only read.
 */
class NodeSetupKernelTest {

    /** The real module parameters for reading; writes are recorded, never made (the hash table is the host's). */
    static final class ReadOnlyRecorder implements Sysctls {
        final Sysctls real = Sysctls.files(Path.of(NodeSetup.CONNTRACK_MODULE), "/sys");
        final List<String> writes = new ArrayList<>();

        @Override
        public OptionalLong read(String name) throws IOException {
            return real.read(name);
        }

        @Override
        public void write(String name, long value) {
            writes.add(name + "=" + value);
        }
    }

    @Test
    void theOomScoreOfAProcessIsSetThroughItsProcDirectory() throws Exception {
        Process child = new ProcessBuilder("sleep", "60").start();
        Path proc = Path.of("/proc", Long.toString(child.pid()));
        try {
            NodeSetup setup = new NodeSetup(new NodeSetupTest.FakeLayer(), new NodeSetupTest.FakeLayer(),
                    Sysctls.files(proc, "/proc"), 1, true, FlagNames.AS_GIVEN);
            // raising needs no privilege (from what the child inherited, which is below 500)
            Assumptions.assumeTrue(Integer.parseInt(Files.readString(proc.resolve("oom_score_adj")).strip()) < 500,
                    "this JVM's OOM score is 500 or more already");
            assertEquals(new NodeSetup.Result(1, 0), setup.oomScore(500));
            assertEquals("500", Files.readString(proc.resolve("oom_score_adj")).strip());
            assertEquals(new NodeSetup.Result(0, 0), setup.oomScore(500), "already so: nothing written");

            ListAppender<ILoggingEvent> logs = capture();
            NodeSetup.Result lowered = setup.oomScore(-999);
            ((Logger) LoggerFactory.getLogger(NodeSetup.class)).detachAppender(logs);
            if (hasCapSysResource()) {
                assertEquals(new NodeSetup.Result(1, 0), lowered);
                assertEquals("-999", Files.readString(proc.resolve("oom_score_adj")).strip());
            } else { // as in a container without CAP_SYS_RESOURCE (this machine's case): said, and nothing changes
                assertEquals(new NodeSetup.Result(0, 1), lowered);
                assertEquals("500", Files.readString(proc.resolve("oom_score_adj")).strip());
                String warning = logs.list.get(0).getFormattedMessage();
                assertEquals("cannot set " + proc.resolve("oom_score_adj") + "=-999: permission denied (lowering the OOM "
                        + "score needs CAP_SYS_RESOURCE); it stays 500; setting --oom-score-adj to the current value "
                        + "leaves it alone", warning);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theHashTableIsReadAndRaisedOnlyWhenSmallerThanAQuarterOfTheLimit() throws IOException {
        ReadOnlyRecorder module = new ReadOnlyRecorder();
        OptionalLong hashsize = module.read(ConntrackSettings.HASHSIZE);
        Assumptions.assumeTrue(hashsize.isPresent(), NodeSetup.CONNTRACK_MODULE + " is missing: nf_conntrack is not loaded");
        long h = hashsize.getAsLong();
        assertTrue(h > 0, "hashsize " + h);

        NodeSetup.Result enough = setup(module).conntrack(ConntrackSettingsTest.sized((int) (4 * h), 0));
        assertEquals(List.of(), module.writes, "a limit of 4 x hashsize needs no larger table");
        assertEquals(new NodeSetup.Result(1, 0), enough, "the limit only (a fake)");

        setup(module).conntrack(ConntrackSettingsTest.sized((int) (4 * h + 4), 0));
        assertEquals(List.of("hashsize=" + (h + 1)), module.writes, "one more bucket for 4 more entries");
    }

    private static NodeSetup setup(Sysctls module) {
        return new NodeSetup(new NodeSetupTest.FakeLayer(), module, new NodeSetupTest.FakeLayer(), 1, true, FlagNames.AS_GIVEN);
    }

    private static ListAppender<ILoggingEvent> capture() {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(NodeSetup.class)).addAppender(logs);
        return logs;
    }

    /** Bit 24 of the effective capabilities. */
    static boolean hasCapSysResource() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << 24)) != 0;
            }
        }
        return false;
    }
}
