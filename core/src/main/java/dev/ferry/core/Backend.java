package dev.ferry.core;

/**
 * Programs one IP family of the node from a snapshot, in one proxy mode. A backend decides only
 * how; what to serve is already in the snapshot.
 *
 * <p>Contract: on failure {@link #sync} reports the failure in the result, leaves the rules
 * that were in place, and makes its next sync a full one. The daemon calls it through
 * {@link SyncGuard}, so an unexpected exception also ends as a failed result; a backend resets
 * its own state for that case in a {@code finally}, and needs no catch-all of its own.
 */
public interface Backend extends AutoCloseable {

    /** The --proxy-mode value this backend implements. */
    String mode();

    /** Makes the node serve {@code snapshot}; called on the sync thread only. */
    SyncResult sync(ProxySnapshot snapshot);

    /** Removes everything this backend ever programs; used by --cleanup. */
    SyncResult cleanup();

    /**
     * Releases what the backend holds (sockets, listeners, event loops); the rules stay, as on
     * SIGTERM. After the last sync; never throws.
     */
    @Override
    default void close() {
    }
}
