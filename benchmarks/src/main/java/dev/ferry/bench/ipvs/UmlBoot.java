package dev.ferry.bench.ipvs;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Boots Debian's user-mode-linux kernel (which has IPVS; this machine's kernel does not) with the host's filesystem
 * as its root, runs one command inside it and halts: the same recipe as the ipvs module's test harness (UmlGuest),
 * kept here because benchmarks do not depend on test classes. The init script mounts /proc and /sys, brings lo up
 * (IPVS refuses services otherwise), loads ip_vs, ip_vs_rr and dummy, mounts a tmpfs scratch directory (so that
 * files the guest writes and reads do not go through hostfs), runs the command with its output going to a file,
 * records its exit status and halts.
 *
 * <p>Threads: the caller's thread boots the guest and, while it runs, copies each new line of the guest's output to
 * {@code progress} (so a long run shows where it is). Failure: a guest still running after the timeout is killed
 * and an IOException names what it printed; the run directory is always deleted.
 */
final class UmlBoot {

    static final Path LINUX = Path.of("/usr/bin/linux.uml");
    /** Where Debian's user-mode-linux package keeps the guest kernel's modules. */
    static final Path UML_MODULES = Path.of("/usr/lib/uml/modules");
    static final List<String> MODULES = List.of("ip_vs", "ip_vs_rr", "dummy");

    private UmlBoot() {
    }

    record Result(int exit, String output) {
    }

    /** Why a guest cannot boot here, or null. */
    static String unavailability() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "booting user-mode-linux with the host filesystem as root needs root";
        }
        if (!Files.isExecutable(LINUX)) {
            return LINUX + " is missing: apt-get install user-mode-linux";
        }
        return null;
    }

    /**
     * Boots a guest and runs {@code command.apply(scratch directory)} in it, bounded by {@code timeout}; with
     * {@code hostCpus} (a taskset list, or null) every host process of the guest stays on those host CPUs.
     */
    static Result run(Duration timeout, String hostCpus, Function<Path, List<String>> command, PrintStream progress)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("fy-ipvs-bench");
        try {
            Path scratch = Files.createDirectory(dir.resolve("scratch"));
            return boot(dir, timeout, hostCpus, scratch, command.apply(scratch), progress);
        } finally {
            deleteTree(dir);
        }
    }

    private static Result boot(Path dir, Duration timeout, String hostCpus, Path scratch, List<String> command,
                               PrintStream progress) throws IOException, InterruptedException {
        // modprobe -d DIR looks in DIR/lib/modules/<release>
        Path lib = Files.createDirectories(dir.resolve("root/lib"));
        Files.createSymbolicLink(lib.resolve("modules"), UML_MODULES);
        Path output = dir.resolve("output");
        Path status = dir.resolve("status");
        Path init = dir.resolve("init");
        Files.writeString(init, script(dir.resolve("root"), scratch, output, status, command), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwx------"));

        List<String> argv = new ArrayList<>();
        if (hostCpus != null) {
            argv.addAll(List.of("taskset", "-c", hostCpus)); // inherited by every process the guest kernel forks
        }
        argv.addAll(List.of(LINUX.toString(), "mem=2G", "rootfstype=hostfs", "rootflags=/", "rw",
                "init=" + init, "con=null", "con0=null,fd:2"));
        Process guest = new ProcessBuilder(argv)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(dir.resolve("console").toFile())
                .start();
        long deadline = System.nanoTime() + timeout.toNanos();
        int shown = 0;
        try {
            while (!guest.waitFor(1, TimeUnit.SECONDS)) {
                shown = showNewLines(output, shown, progress);
                if (System.nanoTime() > deadline) {
                    guest.destroyForcibly();
                    guest.waitFor(10, TimeUnit.SECONDS);
                    throw new IOException("user-mode-linux guest still running after " + timeout
                            + "; output so far:\n" + read(output));
                }
            }
        } finally {
            if (guest.isAlive()) { // interrupted: do not leave the guest behind
                guest.destroyForcibly();
            }
        }
        showNewLines(output, shown, progress);
        String exit = read(status).strip();
        if (exit.isEmpty()) {
            throw new IOException("the guest halted without running the command; console:\n"
                    + tail(read(dir.resolve("console"))) + "\noutput:\n" + read(output));
        }
        return new Result(Integer.parseInt(exit), read(output));
    }

    static String script(Path root, Path scratch, Path output, Path status, List<String> command) {
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
        s.append("mount -t tmpfs -o size=1g tmpfs ").append(quote(scratch.toString()))
                .append(" || { echo 1 >").append(quote(status.toString())).append("; halt -f; }\n");
        List<String> quoted = new ArrayList<>();
        command.forEach(a -> quoted.add(quote(a)));
        s.append(String.join(" ", quoted)).append("\n");
        s.append("echo $? >").append(quote(status.toString())).append("\n");
        s.append("sync\nhalt -f\n");
        return s.toString();
    }

    /** Single-quotes an argument for the guest's shell: nothing inside is interpreted. */
    static String quote(String argument) {
        return "'" + argument.replace("'", "'\\''") + "'";
    }

    /** Prints the complete lines of {@code file} after the first {@code shown} characters; returns the new count. */
    private static int showNewLines(Path file, int shown, PrintStream progress) {
        String text = read(file);
        int end = text.lastIndexOf('\n') + 1;
        if (end > shown) {
            progress.print(text.substring(shown, end));
            progress.flush();
            return end;
        }
        return shown;
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
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
