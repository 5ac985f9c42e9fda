package dev.ferry.proxy.source;

import java.time.Duration;

/**
 * Something that feeds the change tracker: the API server's informers or a manifests directory.
 * A source only translates what it sees into tracker calls; it decides nothing about routing.
 */
public interface Source extends AutoCloseable {

    /** Starts watching, on the source's own threads; returns at once. */
    void start();

    /**
     * Waits until the source has delivered its complete initial state once (every informer
     * listed, every file read). Syncing earlier would remove rules for objects not yet seen.
     *
     * @return whether it has synced within {@code timeout}
     */
    boolean awaitSynced(Duration timeout) throws InterruptedException;

    /** Stops watching. The tracker keeps what it was told. */
    @Override
    void close();
}
