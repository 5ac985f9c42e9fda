package dev.ferry.bench.footprint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The docker command line, run through argument lists (never a shell); main thread only. */
final class Docker {

    private Docker() {
    }

    /** {@code docker ARGS}; its standard output, or an exception with its output when it fails or times out. */
    static String run(long timeoutSeconds, String... args) {
        List<String> argv = new ArrayList<>(List.of("docker"));
        argv.addAll(List.of(args));
        return run(argv, timeoutSeconds);
    }

    static String run(List<String> argv, long timeoutSeconds) {
        try {
            Path out = Files.createTempFile("fy-footprint-", ".out");
            Path err = Files.createTempFile("fy-footprint-", ".err");
            try {
                Process p = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                p.getOutputStream().close();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("timed out after " + timeoutSeconds + " s: " + argv);
                }
                String stdout = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException("exit " + p.exitValue() + ": " + argv + "\n" + stdout
                            + Files.readString(err, StandardCharsets.UTF_8));
                }
                return stdout.strip();
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + argv, e);
        }
    }

    /** One field of {@code docker inspect} ({@code format} is a Go template such as {@code {{.State.Pid}}}). */
    static String inspect(String object, String format) {
        return run(30, "inspect", "-f", format, object);
    }

    /** Removes a container whatever its state; quiet when it is gone already. */
    static void removeQuietly(String container) {
        try {
            run(60, "rm", "-f", container);
        } catch (RuntimeException e) {
            System.err.println("could not remove container " + container + ": " + e.getMessage());
        }
    }

    static boolean available() {
        try {
            run(30, "info", "--format", "{{.ServerVersion}}");
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
