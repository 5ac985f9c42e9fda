package dev.ferry.bench.forward;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The processes of one benchmark run: started through argument lists (never a shell), each
 * optionally pinned to a CPU set with taskset, output to a log file in the run's directory, all
 * stopped at the end (and by a shutdown hook on Ctrl-C). Used from the runner's main thread only.
 */
final class Procs implements AutoCloseable {

    /** A started process, and where its output went. */
    record Proc(String name, Process process, Path log) {
        long pid() {
            return process.pid();
        }

        /** User + system CPU time of the process, its threads and its reaped children (socat's forks), in clock ticks. */
        long cpuTicks() {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
                // fields after the ")" of the command name: state is field 3; utime, stime, cutime, cstime are 14-17
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
            } catch (IOException e) {
                return -1;
            }
        }

        String tail() {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
            } catch (IOException e) {
                return "(no log: " + e.getMessage() + ")";
            }
        }
    }

    private final Path dir;
    private final List<Proc> started = new ArrayList<>();
    private final Thread hook = new Thread(this::stopAll, "procs-shutdown");

    Procs(Path dir) {
        this.dir = dir;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts argv, pinned to {@code cpus} (a taskset list such as "1" or "0-1"; null = not pinned). */
    Proc start(String name, String cpus, List<String> argv) {
        List<String> full = new ArrayList<>();
        if (cpus != null) {
            full.addAll(List.of("taskset", "-c", cpus));
        }
        full.addAll(argv);
        Path log = dir.resolve(name + ".log");
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Proc proc = new Proc(name, p, log);
            started.add(proc);
            return proc;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + full, e);
        }
    }

    /** Runs argv to completion within the timeout (pinned like {@link #start}); returns its output (stdout and stderr). */
    static String run(String cpus, List<String> argv, long timeoutSeconds) {
        List<String> full = new ArrayList<>();
        if (cpus != null) {
            full.addAll(List.of("taskset", "-c", cpus));
        }
        full.addAll(argv);
        try {
            Path out = Files.createTempFile("fy-bench-", ".out");
            try {
                // output to a file, so a stalled program cannot block us past the timeout
                Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(out.toFile()).start();
                p.getOutputStream().close();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("timed out after " + timeoutSeconds + " s: " + full);
                }
                String stdout = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException("exit " + p.exitValue() + ": " + full + "\n" + stdout);
                }
                return stdout;
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + full, e);
        }
    }

    /** Fails with the process's last output if it has exited. */
    static void checkAlive(Proc p) {
        if (!p.process().isAlive()) {
            throw new IllegalStateException(p.name() + " exited with " + p.process().exitValue() + "; its log:\n" + p.tail());
        }
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    /** SIGTERM to each (taskset execs, so the pid is the program's), then SIGKILL to any still alive after 10 s. */
    private synchronized void stopAll() {
        for (Proc p : started) {
            p.process().descendants().forEach(ProcessHandle::destroy);
            p.process().destroy();
        }
        for (Proc p : started) {
            try {
                if (!p.process().waitFor(10, TimeUnit.SECONDS)) {
                    p.process().descendants().forEach(ProcessHandle::destroyForcibly);
                    p.process().destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        started.clear();
    }
}
