package dev.ferry.iptables;

import dev.ferry.core.Backend;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;

import java.time.Duration;
import java.util.Objects;

/**
 * iptables mode for one IP family. STUB: the contract only; the implementation is being written.
 *
 * <p>Threads: sync and cleanup run on the sync thread only.
 */
public final class IptablesBackend implements Backend {

    private final IpFamily family;
    private final IptablesConfig config;
    private final CommandRunner runner;

    /**
     * @param runner runs iptables-save / iptables-restore (or ip6tables-*); a dry-run runner
     *               prints the restore input and reports empty tables
     */
    public IptablesBackend(IpFamily family, IptablesConfig config, CommandRunner runner) {
        this.family = Objects.requireNonNull(family, "family");
        this.config = Objects.requireNonNull(config, "config");
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    @Override
    public String mode() {
        return "iptables";
    }

    @Override
    public SyncResult sync(ProxySnapshot snapshot) {
        return SyncResult.failure(true, Duration.ZERO, "not implemented");
    }

    @Override
    public SyncResult cleanup() {
        return SyncResult.failure(true, Duration.ZERO, "not implemented");
    }
}
