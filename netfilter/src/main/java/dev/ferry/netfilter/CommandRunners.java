package dev.ferry.netfilter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * The {@link CommandRunner}s the proxy uses: a real one and a dry-run one.
 *
 * <p>Threads: {@link #process()} runs on the caller's thread and starts three short-lived
 * daemon threads per command (stdin writer, stdout and stderr readers) so a program that
 * fills one pipe while we write another cannot deadlock. A command still running at the
 * timeout is killed and reported as an IOException.
 */
public final class CommandRunners {

    /** Longer than iptables-restore's own lock wait (-w 5) plus a large payload's apply time. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private CommandRunners() {
    }

    /** Runs real programs with {@link ProcessBuilder}, killing any still running after 60 s. */
    public static CommandRunner process() {
        return process(DEFAULT_TIMEOUT);
    }

    public static CommandRunner process(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        return new LocalProcessRunner(timeout);
    }

    /** Runs programs in this process's own namespaces (so /proc/sys is theirs too). */
    static final class LocalProcessRunner implements CommandRunner {
        private final Duration timeout;

        private LocalProcessRunner(Duration timeout) {
            this.timeout = timeout;
        }

        @Override
        public Result run(List<String> argv, byte[] stdin) throws IOException {
            return runProcess(argv, stdin == null ? null : out -> out.write(stdin), timeout);
        }

        @Override
        public Result runStreaming(List<String> argv, Input stdin) throws IOException {
            return runProcess(argv, stdin, timeout);
        }

        @Override
        public Result runReading(List<String> argv, Output stdout) throws IOException {
            return runProcess(argv, null, stdout, timeout);
        }
    }

    /**
     * Prefixes every command with {@code prefix}, e.g. {@code ip netns exec NS} to program a
     * network namespace.
     */
    public static CommandRunner prefixed(List<String> prefix, CommandRunner inner) {
        List<String> head = List.copyOf(prefix);
        return rewriting(argv -> {
            List<String> all = new ArrayList<>(head.size() + argv.size());
            all.addAll(head);
            all.addAll(argv);
            return all;
        }, inner);
    }

    /**
     * Runs every command as {@code rewrite} turns its argument list (a prefix, another program
     * name); input, output and {@link CommandRunner#appliesChanges} pass through unchanged.
     */
    public static CommandRunner rewriting(UnaryOperator<List<String>> rewrite, CommandRunner inner) {
        Objects.requireNonNull(rewrite, "rewrite");
        Objects.requireNonNull(inner, "inner");
        return new CommandRunner() {
            @Override
            public Result run(List<String> argv, byte[] stdin) throws IOException {
                return inner.run(rewrite.apply(argv), stdin);
            }

            @Override
            public Result runStreaming(List<String> argv, Input stdin) throws IOException {
                return inner.runStreaming(rewrite.apply(argv), stdin);
            }

            @Override
            public Result runReading(List<String> argv, Output stdout) throws IOException {
                return inner.runReading(rewrite.apply(argv), stdout);
            }

            @Override
            public boolean appliesChanges() {
                return inner.appliesChanges();
            }
        };
    }

    /**
     * Runs nothing: prints the input of every {@code *-restore} command (the rules that would
     * be applied) to {@code out} and answers every {@code *-save} command with empty output, as
     * if the node had no rules yet. Every command succeeds.
     */
    public static CommandRunner dryRun(PrintStream out) {
        Objects.requireNonNull(out, "out");
        return new CommandRunner() {
            @Override
            public Result run(List<String> argv, byte[] stdin) {
                String program = argv.isEmpty() ? "" : argv.get(0);
                if (program.endsWith("-restore") && stdin != null) {
                    synchronized (out) {
                        out.print(new String(stdin, StandardCharsets.UTF_8));
                        out.flush();
                    }
                }
                return new CommandRunner.Result(0, "", "");
            }

            /** Writes the input straight to {@code out} (UTF-8, as a restore reads it): a 10,000-Service payload is never copied whole. */
            @Override
            public Result runStreaming(List<String> argv, Input stdin) throws IOException {
                String program = argv.isEmpty() ? "" : argv.get(0);
                if (program.endsWith("-restore") && stdin != null) {
                    synchronized (out) {
                        stdin.writeTo(out);
                        out.flush();
                    }
                }
                return new CommandRunner.Result(0, "", "");
            }

            @Override
            public boolean appliesChanges() {
                return false;
            }
        };
    }

    static CommandRunner.Result runProcess(List<String> argv, CommandRunner.Input stdin, Duration timeout)
            throws IOException {
        return runProcess(argv, stdin, null, timeout);
    }

    /** With {@code consumer} null, stdout is collected into the result; else fed to it as it comes. */
    static CommandRunner.Result runProcess(List<String> argv, CommandRunner.Input stdin,
                                           CommandRunner.Output consumer, Duration timeout) throws IOException {
        if (argv == null || argv.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        String command = String.join(" ", argv);
        Process process;
        try {
            process = new ProcessBuilder(argv).start();
        } catch (IOException e) {
            throw new IOException("cannot start " + argv.get(0) + ": " + e.getMessage(), e);
        }
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> writeAll(process.getOutputStream(), stdin),
                CommandRunners::daemon);
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> consumer == null
                ? readAll(process.getInputStream()) : consume(process.getInputStream(), consumer),
                CommandRunners::daemon);
        // A consumer that gives up stops reading: end the program rather than let it block on a full pipe.
        out.whenComplete((bytes, failure) -> {
            if (failure != null) {
                process.destroyForcibly();
            }
        });
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()),
                CommandRunners::daemon);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException(command + ": still running after " + timeout.toSeconds() + " s, killed");
            }
            // The process has exited, so its pipes reach end of file promptly.
            long bound = 10_000;
            byte[] stdout = out.get(bound, TimeUnit.MILLISECONDS);
            byte[] stderr = err.get(bound, TimeUnit.MILLISECONDS);
            try {
                writer.get(bound, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                // A program that exits without reading all its input (e.g. on a parse error)
                // breaks the pipe; its exit code and stderr say what happened.
            }
            return new CommandRunner.Result(process.exitValue(),
                    new String(stdout, StandardCharsets.UTF_8), new String(stderr, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(command + ": interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof UncheckedIOException u && u.getCause() != null) {
                cause = u.getCause();
            }
            if (cause instanceof RuntimeException r && !(cause instanceof UncheckedIOException)) {
                throw r; // the consumer's own verdict on the output, e.g. a parse error
            }
            throw new IOException(command + ": cannot read its output: " + cause.getMessage(), cause);
        }
    }

    private static void daemon(Runnable task) {
        Thread t = new Thread(task, "command-io");
        t.setDaemon(true);
        t.start();
    }

    private static void writeAll(OutputStream stream, CommandRunner.Input data) {
        try (OutputStream s = stream) {
            if (data != null) {
                data.writeTo(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final byte[] NOTHING = new byte[0];

    private static byte[] consume(InputStream stream, CommandRunner.Output consumer) {
        try (InputStream s = stream) {
            consumer.readFrom(s);
            s.transferTo(OutputStream.nullOutputStream()); // whatever the consumer left: let the program finish
            return NOTHING;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] readAll(InputStream stream) {
        try (InputStream s = stream) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            s.transferTo(buffer);
            return buffer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
