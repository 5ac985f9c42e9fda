package dev.ferry.core;

import java.util.Objects;

/**
 * Identifies one port of one Service. {@link #toString()} is upstream's spelling,
 * {@code namespace/name:port} ({@code :port} left out for an unnamed port); it goes into
 * rule comments and the chain-name hashes, so it must not change.
 */
public record ServicePortName(String namespace, String name, String port, Protocol protocol) {

    public ServicePortName {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(protocol, "protocol");
        port = port == null ? "" : port;
    }

    public NamespacedName service() {
        return new NamespacedName(namespace, name);
    }

    @Override
    public String toString() {
        return port.isEmpty() ? namespace + "/" + name : namespace + "/" + name + ":" + port;
    }
}
