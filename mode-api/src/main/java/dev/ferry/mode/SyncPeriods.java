package dev.ferry.mode;

import java.time.Duration;
import java.util.Objects;

/** How often a mode syncs: at most every {@code min} (changes in between are batched), at least every {@code max}. */
public record SyncPeriods(Duration min, Duration max) {

    public SyncPeriods {
        Objects.requireNonNull(min, "min");
        Objects.requireNonNull(max, "max");
    }
}
