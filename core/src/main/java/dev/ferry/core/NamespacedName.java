package dev.ferry.core;

import java.util.Objects;

/** namespace/name of an API object. */
public record NamespacedName(String namespace, String name) implements Comparable<NamespacedName> {

    public NamespacedName {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
    }

    @Override
    public int compareTo(NamespacedName o) {
        int c = namespace.compareTo(o.namespace);
        return c != 0 ? c : name.compareTo(o.name);
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
