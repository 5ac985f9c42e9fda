package dev.ferry.mode;

import dev.ferry.core.Backend;
import dev.ferry.core.IpFamily;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;

/**
 * A backend with the IP family it programs and the label its log lines carry, e.g. "iptables IPv4".
 */
public record FamilyBackend(String label, IpFamily family, Backend backend) {

    private static final Logger LOG = LoggerFactory.getLogger(FamilyBackend.class);

    public FamilyBackend {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(backend, "backend");
    }

    /** "MODE IPv4" / "MODE IPv6". */
    public static FamilyBackend of(String mode, IpFamily family, Backend backend) {
        return new FamilyBackend(mode + " " + family.label(), family, backend);
    }

    /** Closes the backend; a failure is logged, never thrown (closing happens on the way out). */
    public void closeQuietly() {
        try {
            backend.close();
        } catch (RuntimeException e) {
            LOG.warn("{}: closing failed: {}", label, e.toString());
        }
    }
}
