package dev.ferry.netfilter;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Runs a program with an argument list (never a shell string) and optional standard input.
 * Injected so rule generation and syncing can be tested without a kernel, and so --dry-run
 * can print what would be applied instead of applying it.
 */
public interface CommandRunner {

    /** What a finished command returned. */
    record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /**
     * @param argv  program and arguments
     * @param stdin bytes to write to standard input, or null for none
     * @throws IOException when the program cannot be started or is interrupted
     */
    Result run(List<String> argv, byte[] stdin) throws IOException;

    /** Standard input produced while the program runs, so a large payload is never copied whole. */
    @FunctionalInterface
    interface Input {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Like {@link #run(List, byte[])} with input streamed to the program. The default buffers
     * it first; runners of real programs stream it.
     */
    default Result runStreaming(List<String> argv, Input stdin) throws IOException {
        if (stdin == null) {
            return run(argv, (byte[]) null);
        }
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        stdin.writeTo(buffer);
        return run(argv, buffer.toByteArray());
    }

    /** Consumes a program's standard output as it is produced. */
    @FunctionalInterface
    interface Output {
        void readFrom(InputStream in) throws IOException;
    }

    /**
     * Runs a program without input and hands its standard output to {@code stdout} while it
     * runs, so a large output (iptables-save of a big table) is never held whole; the result's
     * stdout is then "". A RuntimeException thrown by {@code stdout} (e.g. a parse error) ends
     * the program and is rethrown. The default buffers the output first; runners of real
     * programs stream it.
     */
    default Result runReading(List<String> argv, Output stdout) throws IOException {
        Result r = run(argv, (byte[]) null);
        stdout.readFrom(new ByteArrayInputStream(r.stdout().getBytes(StandardCharsets.UTF_8)));
        return new Result(r.exitCode(), "", r.stderr());
    }

    /** False for a dry-run runner: then nothing else (e.g. sysctls) may change the node either. */
    default boolean appliesChanges() {
        return true;
    }
}
