package dev.ferry.bench;

import dev.ferry.iptables.CommandRunner;

import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * Passes commands through to another runner and remembers, for the last sync, how long the
 * *-save and *-restore commands took and what was restored, so the harness can replay the exact
 * payload as its baseline and split our sync time into its parts. Single-threaded use only.
 */
final class RecordingRunner implements CommandRunner {

    private final CommandRunner inner;
    private long saveNanos;
    private long restoreNanos;
    private int restores;
    private byte[] lastRestoreInput;
    private List<String> lastRestoreArgv;

    RecordingRunner(CommandRunner inner) {
        this.inner = Objects.requireNonNull(inner, "inner");
    }

    void reset() {
        saveNanos = 0;
        restoreNanos = 0;
        restores = 0;
        lastRestoreInput = null;
        lastRestoreArgv = null;
    }

    long saveNanos() {
        return saveNanos;
    }

    long restoreNanos() {
        return restoreNanos;
    }

    int restores() {
        return restores;
    }

    List<String> lastRestoreArgv() {
        return lastRestoreArgv;
    }

    byte[] lastRestoreInput() {
        return lastRestoreInput;
    }

    @Override
    public Result run(List<String> argv, byte[] stdin) throws IOException {
        String program = argv.get(0);
        long start = System.nanoTime();
        Result r = inner.run(argv, stdin);
        long took = System.nanoTime() - start;
        if (program.endsWith("-save")) {
            saveNanos += took;
        } else if (program.endsWith("-restore")) {
            restoreNanos += took;
            restores++;
            lastRestoreInput = stdin;
            lastRestoreArgv = List.copyOf(argv);
        }
        return r;
    }
}
