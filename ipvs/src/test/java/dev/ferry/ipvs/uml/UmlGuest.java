package dev.ferry.ipvs.uml;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands inside Debian's user-mode-linux kernel, which has IPVS and dummy links (this machine's kernel has
 * neither): the guest boots with the host's filesystem as its root (hostfs), so it sees the JDK, the build's
 * classes and this run's files; an init script mounts /proc and /sys, brings lo up (IPVS refuses services
 * otherwise), loads the IPVS modules and dummy, runs the commands in order (stopping at the first failure), writes
 * their output and exit status to files the host then reads, and halts.
 *
 * <p>Each {@link #run} is a fresh boot (about 3 s): nothing leaks between tests. Commands are argument lists; the
 * script quotes every argument, so nothing a test passes is interpreted by the guest's shell.
 */
public final class UmlGuest {

    /** Where Debian's user-mode-linux package keeps the guest kernel's modules. */
    static final Path UML_MODULES = Path.of("/usr/lib/uml/modules");
    static final List<String> MODULES = List.of(
            "ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_dh", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq", "dummy");

    private UmlGuest() {
    }

    /** Whether tests here can boot a guest: root (hostfs as root needs it) and the kernel installed. */
    public static String unavailability() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "booting user-mode-linux with the host filesystem as root needs root";
        }
        return null;
    }

    /** What the guest printed and how the first failing command (or the last one) exited. */
    public record Result(int exit, String output) {
        public boolean ok() {
            return exit == 0;
        }
    }

    /** Boots a guest, runs {@code commands} in order inside it, and halts it; bounded by {@code timeout}. */
    public static Result run(Duration timeout, List<List<String>> commands) {
        Path linux = Path.of("/usr/bin/linux.uml");
        if (!Files.isExecutable(linux)) {
            throw new IllegalStateException(linux + " is missing: apt-get install user-mode-linux (.ci/run does)");
        }
        try {
            Path dir = Files.createTempDirectory("ferry-uml");
            try {
                return boot(linux, dir, timeout, commands);
            } finally {
                deleteTree(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Result boot(Path linux, Path dir, Duration timeout, List<List<String>> commands)
            throws IOException {
        // modprobe -d DIR looks in DIR/lib/modules/<release>
        Path modules = Files.createDirectories(dir.resolve("root/lib"));
        Files.createSymbolicLink(modules.resolve("modules"), UML_MODULES);
        Path output = dir.resolve("output");
        Path status = dir.resolve("status");
        Path init = dir.resolve("init");
        Files.writeString(init, script(dir.resolve("root"), output, status, commands), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwx------"));

        ProcessBuilder pb = new ProcessBuilder(linux.toString(), "mem=2G", "rootfstype=hostfs", "rootflags=/", "rw",
                "init=" + init, "con=null", "con0=null,fd:2")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(dir.resolve("console").toFile());
        Process guest = pb.start();
        try {
            if (!guest.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                guest.destroyForcibly();
                guest.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("user-mode-linux guest still running after " + timeout + "; output so far:\n"
                        + read(output) + "\nconsole:\n" + tail(read(dir.resolve("console"))));
            }
        } catch (InterruptedException e) {
            guest.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the guest ran", e);
        }
        String exit = read(status).strip();
        if (exit.isEmpty()) {
            throw new AssertionError("the guest halted without running the commands; console:\n"
                    + tail(read(dir.resolve("console"))) + "\noutput:\n" + read(output));
        }
        return new Result(Integer.parseInt(exit), read(output));
    }

    static String script(Path root, Path output, Path status, List<List<String>> commands) {
        StringBuilder s = new StringBuilder();
        s.append("#!/bin/sh\n");
        s.append("export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
        s.append("mount -t proc proc /proc\nmount -t sysfs sysfs /sys\n");
        s.append("exec >").append(quote(output.toString())).append(" 2>&1\n");
        s.append("ip link set lo up\n");
        for (String module : MODULES) {
            s.append("modprobe -d ").append(quote(root.toString())).append(' ').append(quote(module))
                    .append(" || { echo 1 >").append(quote(status.toString())).append("; halt -f; }\n");
        }
        s.append("rc=0\n");
        for (List<String> command : commands) {
            List<String> quoted = new ArrayList<>();
            command.forEach(a -> quoted.add(quote(a)));
            s.append("if [ $rc -eq 0 ]; then ").append(String.join(" ", quoted)).append("; rc=$?; fi\n");
        }
        s.append("echo $rc >").append(quote(status.toString())).append("\n");
        s.append("sync\nhalt -f\n");
        return s.toString();
    }

    /** Single-quotes an argument for the guest's shell: nothing inside is interpreted. */
    static String quote(String argument) {
        return "'" + argument.replace("'", "'\\''") + "'";
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    private static String tail(String text) {
        return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
