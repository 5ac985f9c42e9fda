package dev.ferry.proxy.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A temporary manifests directory for one test, removed with everything in it. */
final class ManifestDir implements AutoCloseable {
    private final Path dir;
    private final Manifests manifests;

    ManifestDir(Topology topology) {
        try {
            this.dir = Files.createTempDirectory(topology.prefix() + "-manifests");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.manifests = new Manifests(dir);
        manifests.write("node.yaml", Manifests.node(ProxyProcess.NODE_NAME));
    }

    Path path() {
        return dir;
    }

    Manifests manifests() {
        return manifests;
    }

    @Override
    public void close() {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
