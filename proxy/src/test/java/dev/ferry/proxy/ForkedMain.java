package dev.ferry.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@link Main} in a JVM of its own, on this test's classpath, for what only a process shows: its
 * environment, its exit status, its heap limit, its real logging. Standard output and error go
 * to files in {@code dir}; {@link #close()} kills the process if it still runs.
 */
final class ForkedMain implements AutoCloseable {

    private final Process process;
    private final Path out;
    private final Path err;

    private ForkedMain(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    /**
     * @param env  the whole environment of the process (nothing is inherited)
     * @param jvm  JVM options, e.g. {@code -Xmx64m}
     * @param args the proxy's arguments
     */
    static ForkedMain start(Path dir, Map<String, String> env, List<String> jvm, List<String> args) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.addAll(jvm);
        argv.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        argv.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(dir.resolve("stdout").toFile())
                .redirectError(dir.resolve("stderr").toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            return new ForkedMain(pb.start(), dir.resolve("stdout"), dir.resolve("stderr"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + argv, e);
        }
    }

    /** Waits for the exit; the status, or fails after {@code timeout} (then the process is killed). */
    int exitStatus(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("still running after " + timeout + "; it said:\n" + String.join("\n", errLines()));
        }
        return process.exitValue();
    }

    Path stdout() {
        return out;
    }

    /** Standard error so far. */
    List<String> errLines() {
        try {
            return Files.readAllLines(err, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
