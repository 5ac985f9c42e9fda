package dev.ferry.netfilter;

import dev.ferry.netfilter.KernelSettingException.Reason;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Reading and writing settings, and how a refused write is told: the setting, the value, why. */
class SysctlsTest {

    @Test
    void aMultiDigitSysctlIsReadWhole() throws IOException {
        // procfs answers an integer sysctl to the first read only; a one-byte first read saw "4194304" as "4"
        CommandRunner.Result cat = CommandRunners.process().run(List.of("cat", "/proc/sys/kernel/pid_max"), null);
        long expected = Long.parseLong(cat.stdout().strip());
        Assumptions.assumeTrue(expected >= 10, "pid_max has one digit here: nothing to show");
        assertEquals(OptionalLong.of(expected), Sysctls.procSys().read("kernel/pid_max"));
    }

    @Test
    void aMissingSettingReadsEmptyAndIsNeverCreated(@TempDir Path dir) throws IOException {
        Sysctls s = Sysctls.procSys(dir);
        assertEquals(OptionalLong.empty(), s.read("net/netfilter/nf_conntrack_max"));
        Files.createDirectories(dir.resolve("net/netfilter"));
        KernelSettingException e = assertThrows(KernelSettingException.class, () -> s.write("net/netfilter/nf_conntrack_max", 7));
        assertEquals(Reason.MISSING, e.reason());
        assertEquals("cannot set sysctl net/netfilter/nf_conntrack_max=7: does not exist (the nf_conntrack module is not "
                + "loaded)", e.getMessage());
        assertFalse(Files.exists(dir.resolve("net/netfilter/nf_conntrack_max")), "a write must not create the setting");
    }

    @Test
    void aSettingIsWrittenAndReadBack(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("hashsize"), "16384\n");
        Sysctls s = Sysctls.files(dir, "/sys");
        s.write("hashsize", 32768);
        assertEquals(OptionalLong.of(32768), s.read("hashsize"));
        assertEquals("32768", Files.readString(dir.resolve("hashsize")));
    }

    @Test
    void eachErrnoIsToldWithWhatToDo() {
        String max = "sysctl net/netfilter/nf_conntrack_max";
        assertEquals("cannot set " + max + "=1: read-only /proc/sys: run the container privileged", KernelSettingException
                .of(max, 1, "/proc/sys", false, new FileSystemException("/proc/sys/x", null, "Read-only file system"))
                .getMessage());
        assertEquals("cannot set " + max + "=1: permission denied (needs root, or CAP_NET_ADMIN)",
                KernelSettingException.of(max, 1, "/proc/sys", false, new AccessDeniedException("/proc/sys/x")).getMessage());
        assertEquals(Reason.HOST_NETWORK_NAMESPACE_ONLY,
                KernelSettingException.of(max, 1, "/proc/sys", true, new AccessDeniedException("/proc/sys/x")).reason());
        assertEquals(Reason.MISSING, KernelSettingException.of(max, 1, "/proc/sys", false, new NoSuchFileException("x")).reason());
        // what Java throws for a write(2) that fails (hashsize from another network namespace, a value out of range)
        KernelSettingException hashsize = KernelSettingException.of("/sys/module/nf_conntrack/parameters/hashsize", 8,
                "/sys", false, new IOException("Operation not supported"));
        assertEquals(Reason.NOT_SUPPORTED_HERE, hashsize.reason());
        assertEquals(Reason.INVALID_VALUE,
                KernelSettingException.of(max, -1, "/proc/sys", false, new IOException("Invalid argument")).reason());
        assertEquals("cannot set /proc/self/oom_score_adj=-999: permission denied (lowering the OOM score needs "
                + "CAP_SYS_RESOURCE)", KernelSettingException.of("/proc/self/oom_score_adj", -999, "/proc", false,
                new AccessDeniedException("/proc/self/oom_score_adj")).getMessage());
        assertEquals(Reason.OTHER, KernelSettingException.of(max, 1, "/proc/sys", false, new IOException("odd")).reason());
    }

    @Test
    void theSysctlProgramsWordsAreToldTheSameWay() {
        // sysctl(8)'s stderr, as viaCommands sees it
        assertEquals(Reason.PERMISSION_DENIED, KernelSettingException.of("sysctl a/b", 1, "/proc/sys", false,
                new IOException("sysctl: permission denied on key \"a.b\"")).reason());
        assertEquals(Reason.READ_ONLY_FILE_SYSTEM, KernelSettingException.of("sysctl a/b", 1, "/proc/sys", false,
                new IOException("sysctl: setting key \"a.b\": Read-only file system")).reason());
        assertEquals(Reason.MISSING, KernelSettingException.of("sysctl a/b", 1, "/proc/sys", false,
                new IOException("sysctl: cannot stat /proc/sys/a/b: No such file or directory")).reason());
    }

    @Test
    void aReadOnlyMountIsToldAsSuch(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(NetNamespace.isRoot(), "mounting a read-only file system needs root");
        Path mount = dir.resolve("ro");
        Files.createDirectories(mount);
        run("mount", "-t", "tmpfs", "-o", "size=64k", "ferry-sysctls-test", mount.toString());
        try {
            Files.writeString(mount.resolve("hashsize"), "16384");
            run("mount", "-o", "remount,ro", mount.toString());
            KernelSettingException e = assertThrows(KernelSettingException.class,
                    () -> Sysctls.files(mount, "/sys").write("hashsize", 32768));
            assertEquals(Reason.READ_ONLY_FILE_SYSTEM, e.reason());
            assertEquals("cannot set " + mount.resolve("hashsize") + "=32768: read-only /sys: run the container privileged",
                    e.getMessage());
        } finally {
            run("umount", mount.toString());
        }
    }

    private static void run(String... argv) throws IOException {
        CommandRunner.Result r = CommandRunners.process().run(List.of(argv), null);
        if (!r.ok()) {
            throw new IOException(String.join(" ", argv) + ": " + r.stderr());
        }
    }
}
