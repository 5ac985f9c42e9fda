package dev.ferry.netfilter;

import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Kernel settings a mode reads or needs (names as in /proc/sys, with '/', e.g.
 * "net/ipv4/conf/all/route_localnet"). Injected so tests can fake them, and so a proxy that
 * programs another network namespace sets that namespace's values.
 */
public interface Sysctls {

    /** The value, or empty when the setting does not exist (e.g. module not loaded). */
    OptionalLong read(String name) throws IOException;

    void write(String name, long value) throws IOException;

    /**
     * The settings of the kernel {@code runner} programs: /proc/sys when it runs programs right
     * here, nothing written for a dry run (each write is logged instead), else through the
     * runner's own {@code sysctl} (a runner prefixed with {@code ip netns exec NS} programs NS,
     * whose settings are not this JVM's /proc/sys).
     */
    static Sysctls of(CommandRunner runner) {
        Objects.requireNonNull(runner, "runner");
        if (!runner.appliesChanges()) {
            Sysctls inner = procSys();
            return new Sysctls() {
                @Override
                public OptionalLong read(String name) throws IOException {
                    return inner.read(name);
                }

                @Override
                public void write(String name, long value) {
                    LoggerFactory.getLogger(Sysctls.class).info("dry run: would set sysctl {}={}", name, value);
                }
            };
        }
        return runner instanceof CommandRunners.LocalProcessRunner ? procSys() : viaCommands(runner);
    }

    /** This process's network namespace, through /proc/sys. */
    static Sysctls procSys() {
        return procSys(Path.of("/proc/sys"));
    }

    /**
     * The sysctls under {@code root} (a test's directory in place of /proc/sys). A failed write
     * throws {@link KernelSettingException} naming the sysctl and the reason.
     */
    static Sysctls procSys(Path root) {
        Objects.requireNonNull(root, "root");
        return new NumberFiles(root, name -> "sysctl " + name, root.toString());
    }

    /**
     * Numbers kept one per file under {@code dir}, named by file name: module parameters such as
     * /sys/module/nf_conntrack/parameters/hashsize, or /proc/self's oom_score_adj. A failed write
     * throws {@link KernelSettingException} naming the file and the reason ({@code mount} is how a
     * read-only file system is named: "/sys", "/proc").
     */
    static Sysctls files(Path dir, String mount) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(mount, "mount");
        return new NumberFiles(dir, name -> dir.resolve(name).toString(), mount);
    }

    /**
     * Through the {@code sysctl} program run by {@code runner}: with a prefixed runner
     * ({@code ip netns exec NS}) this reads and sets another namespace's values.
     */
    static Sysctls viaCommands(CommandRunner runner) {
        Objects.requireNonNull(runner, "runner");
        return new Sysctls() {
            @Override
            public OptionalLong read(String name) throws IOException {
                CommandRunner.Result r = runner.run(List.of("sysctl", "-n", name.replace('/', '.')), null);
                if (!r.ok() || r.stdout().isBlank()) {
                    return OptionalLong.empty();
                }
                try {
                    return OptionalLong.of(Long.parseLong(r.stdout().strip()));
                } catch (NumberFormatException e) {
                    throw new IOException("sysctl " + name + " is not a number: " + r.stdout().strip(), e);
                }
            }

            @Override
            public void write(String name, long value) throws IOException {
                CommandRunner.Result r = runner.run(List.of("sysctl", "-w", name.replace('/', '.') + "=" + value), null);
                if (!r.ok()) {
                    throw KernelSettingException.of("sysctl " + name, value, "/proc/sys", false, new IOException(
                            "sysctl -w exited " + r.exitCode() + ": " + r.stderr().strip()));
                }
            }
        };
    }
}
