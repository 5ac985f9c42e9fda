package dev.ferry.proxy.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A child process of the test JVM, started from an argument list (never a shell string).
 *
 * <p>Threads: one daemon thread per output stream copies lines into a buffer guarded by this
 * object's monitor, so the child never blocks on a full pipe and tests can read what it said so
 * far. {@link #kill()} SIGKILLs the process and every descendant (socat forks a child per
 * connection); it is safe to call more than once and after the process has exited.
 */
final class Proc implements AutoCloseable {

    /** The outcome of a finished command. */
    record Result(List<String> argv, int exit, String out, String err) {
        boolean ok() {
            return exit == 0;
        }

        /** For failure messages: the command line and everything it printed. */
        String describe() {
            return String.join(" ", argv) + " -> exit " + exit
                    + (out.isBlank() ? "" : "\n  stdout: " + out.strip())
                    + (err.isBlank() ? "" : "\n  stderr: " + err.strip());
        }
    }

    private final List<String> argv;
    private final Process process;
    private final List<String> outLines = new ArrayList<>();
    private final List<String> errLines = new ArrayList<>();
    private final Thread outPump;
    private final Thread errPump;

    private Proc(List<String> argv, Process process) {
        this.argv = List.copyOf(argv);
        this.process = process;
        this.outPump = pump(process.getInputStream(), outLines, "out");
        this.errPump = pump(process.getErrorStream(), errLines, "err");
    }

    /** Starts argv with stdin closed. */
    static Proc start(List<String> argv) {
        return start(argv, false);
    }

    /** Starts argv; with {@code keepStdin} the caller may write to {@link #stdin()}. */
    static Proc start(List<String> argv, boolean keepStdin) {
        Objects.requireNonNull(argv, "argv");
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("empty argv");
        }
        ProcessBuilder pb = new ProcessBuilder(argv);
        if (!keepStdin) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        try {
            return new Proc(argv, pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + argv, e);
        }
    }

    /** Runs argv to completion; kills it and fails if it takes longer than {@code timeout}. */
    static Result run(Duration timeout, List<String> argv) {
        try (Proc p = start(argv)) {
            if (!p.waitFor(timeout)) {
                p.kill();
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", argv)
                        + "\n  stdout: " + p.out() + "\n  stderr: " + p.err());
            }
            return p.result();
        }
    }

    /** Runs argv with {@code input} on its stdin (then closed); kills it after {@code timeout}. */
    static Result run(Duration timeout, List<String> argv, String input) {
        try (Proc p = start(argv, true)) {
            try (var in = p.stdin()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // the command exited before reading its input; its output says why
            }
            if (!p.waitFor(timeout)) {
                p.kill();
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", argv)
                        + "\n  stdout: " + p.out() + "\n  stderr: " + p.err());
            }
            return p.result();
        }
    }

    static Result run(List<String> argv) {
        return run(Duration.ofSeconds(20), argv);
    }

    /** Runs argv and fails with its output unless it exits 0. */
    static Result check(List<String> argv) {
        Result r = run(argv);
        if (!r.ok()) {
            throw new AssertionError("command failed: " + r.describe());
        }
        return r;
    }

    long pid() {
        return process.pid();
    }

    Process process() {
        return process;
    }

    java.io.OutputStream stdin() {
        return process.getOutputStream();
    }

    boolean alive() {
        return process.isAlive();
    }

    boolean waitFor(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                return false;
            }
            // the pumps end at EOF, which follows the exit; join so result() has all output
            outPump.join(2000);
            errPump.join(2000);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for " + argv, e);
        }
    }

    Result result() {
        if (process.isAlive()) {
            throw new IllegalStateException("still running: " + argv);
        }
        return new Result(argv, process.exitValue(), out(), err());
    }

    synchronized String out() {
        return String.join("\n", outLines);
    }

    synchronized String err() {
        return String.join("\n", errLines);
    }

    synchronized List<String> errLines() {
        return List.copyOf(errLines);
    }

    synchronized List<String> outLines() {
        return List.copyOf(outLines);
    }

    /** SIGKILL to the process and all its descendants, then wait for it to be reaped. */
    void kill() {
        ProcessHandle handle = process.toHandle();
        List<ProcessHandle> descendants = handle.descendants().toList();
        handle.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM (a graceful stop request); returns whether the process ended within the timeout. */
    boolean terminate(Duration timeout) {
        process.destroy();
        return waitFor(timeout);
    }

    @Override
    public void close() {
        if (process.isAlive() || process.toHandle().descendants().findAny().isPresent()) {
            kill();
        }
    }

    @Override
    public String toString() {
        return "pid " + process.pid() + " " + String.join(" ", argv);
    }

    private Thread pump(InputStream in, List<String> sink, String name) {
        Thread t = new Thread(() -> {
            try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    synchronized (this) {
                        sink.add(line);
                    }
                }
            } catch (IOException ignored) {
                // the process died; what we read so far stays in the buffer
            }
        }, "proc-" + name + "-" + process.pid());
        t.setDaemon(true);
        t.start();
        return t;
    }
}
