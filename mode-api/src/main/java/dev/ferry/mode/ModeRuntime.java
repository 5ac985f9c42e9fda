package dev.ferry.mode;

import java.util.List;
import java.util.Objects;

/**
 * A started mode: its backends, one per IP family, and its metrics. {@link #close()} closes
 * every backend (sockets, listeners, event loops); the rules stay, as on SIGTERM in every mode.
 */
public record ModeRuntime(List<FamilyBackend> backends, ModeMetrics metrics) implements AutoCloseable {

    public ModeRuntime {
        backends = List.copyOf(backends);
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backend");
        }
        Objects.requireNonNull(metrics, "metrics");
    }

    @Override
    public void close() {
        for (FamilyBackend b : backends) {
            b.closeQuietly();
        }
    }
}
