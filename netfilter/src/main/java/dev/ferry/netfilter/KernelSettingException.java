package dev.ferry.netfilter;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import java.util.Objects;

/**
 * A kernel setting (a sysctl, a module parameter under /sys, /proc/self/oom_score_adj) that could
 * not be written, with the reason in words an operator can act on. The message names the setting,
 * the value and the reason, e.g. "cannot set sysctl net/netfilter/nf_conntrack_max=131072:
 * read-only /proc/sys: run the container privileged".
 */
public final class KernelSettingException extends IOException {

    /** Why the kernel refused, as errno tells it. */
    public enum Reason {
        /** EACCES on a writable setting: the process lacks the privilege. */
        PERMISSION_DENIED,
        /** EACCES on a setting the kernel makes read-only in a network namespace other than the host's. */
        HOST_NETWORK_NAMESPACE_ONLY,
        /** EOPNOTSUPP: the kernel takes this write only from the host's initial network namespace. */
        NOT_SUPPORTED_HERE,
        /** EROFS: the file system (/proc/sys, /sys) is mounted read-only, as in an unprivileged container. */
        READ_ONLY_FILE_SYSTEM,
        /** ENOENT: the setting does not exist (its module is not loaded). */
        MISSING,
        /** EINVAL: the kernel refused the value. */
        INVALID_VALUE,
        /** Anything else; the message carries the system's words. */
        OTHER
    }

    private final String setting;
    private final long value;
    private final Reason reason;

    /**
     * @param setting how the setting is named: "sysctl net/netfilter/nf_conntrack_max", or a file's path
     * @param detail  the reason in words (what to do about it included)
     */
    public KernelSettingException(String setting, long value, Reason reason, String detail, Throwable cause) {
        super("cannot set " + Objects.requireNonNull(setting, "setting") + "=" + value + ": " + detail, cause);
        this.setting = setting;
        this.value = value;
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public String setting() {
        return setting;
    }

    public long value() {
        return value;
    }

    public Reason reason() {
        return reason;
    }

    /**
     * The reason a write of {@code value} to {@code setting} failed with {@code e}.
     *
     * @param mount         the mount the setting lives on, as messages name it ("/proc/sys", "/sys", "/proc")
     * @param readOnlyHere  whether the setting's own mode has no write bit (the kernel's way of making a
     *                      sysctl read-only outside the host's network namespace)
     */
    static KernelSettingException of(String setting, long value, String mount, boolean readOnlyHere, IOException e) {
        String text = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : String.valueOf(e.getMessage());
        if (e instanceof NoSuchFileException || contains(text, "no such file")) {
            return new KernelSettingException(setting, value, Reason.MISSING, "does not exist" + missingHint(setting), e);
        }
        if (e instanceof AccessDeniedException || contains(text, "permission denied")) {
            return readOnlyHere
                    ? new KernelSettingException(setting, value, Reason.HOST_NETWORK_NAMESPACE_ONLY,
                            "read-only in this network namespace (the kernel lets only the host's network namespace "
                                    + "change it: run with the host's network)", e)
                    : new KernelSettingException(setting, value, Reason.PERMISSION_DENIED,
                            "permission denied" + privilegeHint(setting), e);
        }
        if (contains(text, "read-only file system")) {
            return new KernelSettingException(setting, value, Reason.READ_ONLY_FILE_SYSTEM,
                    "read-only " + mount + ": run the container privileged", e);
        }
        if (contains(text, "operation not supported")) {
            return new KernelSettingException(setting, value, Reason.NOT_SUPPORTED_HERE, "operation not supported (the "
                    + "kernel takes it only from the host's network namespace: run with the host's network)", e);
        }
        if (contains(text, "invalid argument")) {
            return new KernelSettingException(setting, value, Reason.INVALID_VALUE, "the kernel refused the value "
                    + "(invalid argument)", e);
        }
        return new KernelSettingException(setting, value, Reason.OTHER, text, e);
    }

    private static boolean contains(String text, String words) {
        return text.toLowerCase(Locale.ROOT).contains(words);
    }

    private static String missingHint(String setting) {
        if (setting.contains("nf_conntrack")) {
            return " (the nf_conntrack module is not loaded)";
        }
        if (setting.contains("/vs/")) {
            return " (the ip_vs module is not loaded)";
        }
        return " (not in this kernel, or its module is not loaded)";
    }

    private static String privilegeHint(String setting) {
        if (setting.endsWith("oom_score_adj")) {
            return " (lowering the OOM score needs CAP_SYS_RESOURCE)";
        }
        return setting.startsWith("sysctl net/") ? " (needs root, or CAP_NET_ADMIN)" : " (needs root)";
    }
}
