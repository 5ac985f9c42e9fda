package dev.ferry.proxy.source;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.ProxySnapshot;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One snapshot of what the proxy would serve, read once from the same sources the daemon uses
 * (a manifests directory, or the API server through --kubeconfig/--master), with no watch left
 * running: for tools that inspect a node ({@code inspect}, {@code trace}).
 *
 * <p>Threads: the source's own threads fill the tracker; the caller's thread waits for the
 * initial state, closes the source and takes the snapshot.
 */
public final class SnapshotLoader {

    private SnapshotLoader() {
    }

    /**
     * @param manifests  the --manifests directory, or null to use the API server
     * @param kubeconfig --kubeconfig, or null
     * @param master     --master, or null
     * @param hostname   this node's name (null: the machine's hostname)
     * @param problems   receives each invalid object, one line each
     * @throws IllegalStateException when the source has not delivered its state within {@code timeout}
     * @throws IllegalArgumentException when the kubeconfig cannot be used
     */
    public static ProxySnapshot load(Path manifests, Path kubeconfig, String master, String hostname,
                                     Duration timeout, Consumer<String> problems) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(problems, "problems");
        String node = hostname == null || hostname.isBlank() ? Hostnames.local() : hostname.strip();
        InputProblems sink = new InputProblems(p -> problems.accept(p.toString()));
        ChangeTracker tracker = new ChangeTracker(node, sink, () -> { });
        Source source = manifests != null
                ? new FileSource(manifests, tracker, sink, FileSource.DEFAULT_INTERVAL)
                : new ApiSource(ApiClients.connect(kubeconfig, master), tracker);
        try (source) {
            source.start();
            if (!source.awaitSynced(timeout)) {
                throw new IllegalStateException((manifests != null ? "--manifests " + manifests : "the API server")
                        + ": no complete state within " + timeout.toSeconds() + "s");
            }
        }
        return tracker.snapshot();
    }

    /** This machine's hostname as the proxy reads it (no DNS lookup). */
    public static String localHostname() {
        return Hostnames.local();
    }
}
