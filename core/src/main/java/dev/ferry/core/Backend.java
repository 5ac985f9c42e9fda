package dev.ferry.core;

/**
 * Programs the node from a snapshot: iptables, ipvs or userspace. A backend decides only how;
 * what to serve is already in the snapshot.
 *
 * <p>Contract: {@link #sync} never throws. On failure it reports the failure in the result,
 * leaves the rules that were in place, and makes its next sync a full one.
 */
public interface Backend {

    /** The --proxy-mode value this backend implements. */
    String mode();

    /** Makes the node serve {@code snapshot}; called on the sync thread only. */
    SyncResult sync(ProxySnapshot snapshot);

    /** Removes everything this backend ever programs; used by --cleanup. */
    SyncResult cleanup();
}
