package dev.ferry.iptables;

import java.io.IOException;
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
}
