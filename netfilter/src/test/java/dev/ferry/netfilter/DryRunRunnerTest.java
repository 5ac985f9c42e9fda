package dev.ferry.netfilter;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --dry-run's runner: restore input goes to the output as it is written, and nothing else does. */
class DryRunRunnerTest {

    /** Counts what it is given and keeps nothing. */
    private static final class Counting extends OutputStream {
        long bytes;
        boolean closed;

        @Override
        public void write(int b) {
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void aLargePayloadIsStreamedNotCopied() throws IOException {
        Counting sink = new Counting();
        CommandRunner runner = CommandRunners.dryRun(new PrintStream(sink, false, StandardCharsets.UTF_8));
        byte[] chunk = new byte[64 * 1024];
        Arrays.fill(chunk, (byte) '#');
        long payload = 100L * 1024 * 1024; // three 10k-Service payloads
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        CommandRunner.Result r = runner.runStreaming(List.of("iptables-restore", "--noflush"), out -> {
            for (long written = 0; written < payload; written += chunk.length) {
                out.write(chunk);
            }
            out.close(); // a writer may close its input; the dry run's output stays open
        });
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(r.ok());
        assertEquals(payload, sink.bytes);
        assertFalse(sink.closed, "the output stays open for the next command");
        // buffering it first (a ByteArrayOutputStream, its array, a String) would cost 300 MB and more
        assertTrue(allocated < 1024 * 1024, "allocated " + allocated + " bytes to print " + payload);
    }

    @Test
    void printsRestoreInputAsGivenAndAnswersSavesWithNothing() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CommandRunner runner = CommandRunners.dryRun(new PrintStream(out, true, StandardCharsets.UTF_8));
        assertTrue(runner.run(List.of("iptables-restore", "-w", "5"), "*nat\nCOMMIT\n".getBytes(StandardCharsets.UTF_8)).ok());
        assertTrue(runner.runStreaming(List.of("ip6tables-restore"), s -> s.write("*filter\n".getBytes(StandardCharsets.UTF_8))).ok());
        assertTrue(runner.runStreaming(List.of("ipset", "restore"), s -> s.write("x\n".getBytes(StandardCharsets.UTF_8))).ok(),
                "only *-restore input is the rules");
        CommandRunner.Result save = runner.run(List.of("iptables-save", "-t", "nat"), null);
        assertEquals("", save.stdout());
        assertEquals("*nat\nCOMMIT\n*filter\n", out.toString(StandardCharsets.UTF_8));
        assertFalse(runner.appliesChanges());
    }
}
