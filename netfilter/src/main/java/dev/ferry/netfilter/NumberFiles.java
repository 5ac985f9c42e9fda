package dev.ferry.netfilter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.OptionalLong;
import java.util.function.Function;

/** One number per file under a directory: /proc/sys, a module's parameters, /proc/PID. */
final class NumberFiles implements Sysctls {
    /** More than any number a setting holds. */
    private static final int READ_LIMIT = 4096;

    private final Path root;
    private final Function<String, String> naming;
    private final String mount;

    NumberFiles(Path root, Function<String, String> naming, String mount) {
        this.root = root;
        this.naming = naming;
        this.mount = mount;
    }

    @Override
    public OptionalLong read(String name) throws IOException {
        try {
            String text;
            // One large read: procfs answers a sysctl whole to the first read() and a read at an
            // offset with end of file, so Files.readString (whose first read of a size-0 file is a
            // single byte) would see "262144" as "2".
            try (InputStream in = Files.newInputStream(file(name))) {
                text = new String(in.readNBytes(READ_LIMIT), StandardCharsets.US_ASCII).strip();
            }
            return OptionalLong.of(Long.parseLong(text));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (NumberFormatException e) {
            throw new IOException(naming.apply(name) + " is not a number", e);
        }
    }

    @Override
    public void write(String name, long value) throws IOException {
        Path file = file(name);
        try {
            // never O_CREAT: a missing setting must read as missing, not as a file we may not create
            Files.writeString(file, Long.toString(value), StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw KernelSettingException.of(naming.apply(name), value, mount, noWriteBit(file), e);
        }
    }

    /** The kernel marks a sysctl read-only in a non-initial network namespace by its mode (0444). */
    private static boolean noWriteBit(Path file) {
        try {
            return Files.exists(file) && !Files.getPosixFilePermissions(file).contains(PosixFilePermission.OWNER_WRITE);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private Path file(String name) {
        if (name.contains("..") || name.startsWith("/")) {
            throw new IllegalArgumentException("bad setting name " + name);
        }
        return root.resolve(name);
    }
}
