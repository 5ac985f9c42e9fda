package dev.ferry.bench;

import dev.ferry.netfilter.CommandRunner;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Passes commands through to another runner (keeping streamed input and output streamed) and
 * remembers, for the last sync, how long the *-save (including the caller's parsing of a
 * streamed output), *-restore and other commands (canary check, sysctl) took, and the argv and input of
 * the last restore, so the harness can replay the exact payload as its baseline.
 *
 * <p>The restore input is streamed to the program as the backend produces it and copied to a
 * file on the side (not to the heap, so the heap figures stay ours); the time spent writing
 * that copy is measured and reported so it can be taken off the sync's time.
 * Single-threaded use only.
 */
final class RecordingRunner implements CommandRunner {

    private final CommandRunner inner;
    private final Path restoreCopy;
    private long saveNanos;
    private long restoreNanos;
    private long otherNanos;
    private long copyNanos;
    private int restores;
    private List<String> lastRestoreArgv;

    RecordingRunner(CommandRunner inner, Path restoreCopy) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.restoreCopy = Objects.requireNonNull(restoreCopy, "restoreCopy");
    }

    void reset() {
        saveNanos = 0;
        restoreNanos = 0;
        otherNanos = 0;
        copyNanos = 0;
        restores = 0;
        lastRestoreArgv = null;
    }

    long saveNanos() {
        return saveNanos;
    }

    /** Includes the side copy's time ({@link #copyNanos()}). */
    long restoreNanos() {
        return restoreNanos;
    }

    long otherNanos() {
        return otherNanos;
    }

    long copyNanos() {
        return copyNanos;
    }

    int restores() {
        return restores;
    }

    List<String> lastRestoreArgv() {
        return lastRestoreArgv;
    }

    /** Where the last restore's input was copied. */
    Path lastRestoreInput() {
        return restoreCopy;
    }

    @Override
    public Result run(List<String> argv, byte[] stdin) throws IOException {
        return runStreaming(argv, stdin == null ? null : out -> out.write(stdin));
    }

    @Override
    public Result runStreaming(List<String> argv, Input stdin) throws IOException {
        String program = argv.get(0);
        boolean restore = program.endsWith("-restore");
        Input input = stdin;
        if (restore && stdin != null) {
            input = out -> {
                try (OutputStream file = Files.newOutputStream(restoreCopy)) {
                    stdin.writeTo(new Tee(out, file));
                }
            };
        }
        long start = System.nanoTime();
        Result r = inner.runStreaming(argv, input);
        long took = System.nanoTime() - start;
        if (program.endsWith("-save")) {
            saveNanos += took;
        } else if (restore) {
            restoreNanos += took;
            restores++;
            lastRestoreArgv = List.copyOf(argv);
        } else {
            otherNanos += took;
        }
        return r;
    }

    @Override
    public Result runReading(List<String> argv, Output stdout) throws IOException {
        long start = System.nanoTime();
        try {
            return inner.runReading(argv, stdout);
        } finally {
            long took = System.nanoTime() - start;
            if (argv.get(0).endsWith("-save")) {
                saveNanos += took;
            } else {
                otherNanos += took;
            }
        }
    }

    @Override
    public boolean appliesChanges() {
        return inner.appliesChanges();
    }

    /** Writes to the program and to the side copy, timing the copy. */
    private final class Tee extends OutputStream {
        private final OutputStream main;
        private final OutputStream copy;

        Tee(OutputStream main, OutputStream copy) {
            this.main = main;
            this.copy = copy;
        }

        @Override
        public void write(int b) throws IOException {
            main.write(b);
            long t0 = System.nanoTime();
            copy.write(b);
            copyNanos += System.nanoTime() - t0;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            main.write(b, off, len);
            long t0 = System.nanoTime();
            copy.write(b, off, len);
            copyNanos += System.nanoTime() - t0;
        }

        @Override
        public void flush() throws IOException {
            main.flush();
            copy.flush();
        }
    }
}
