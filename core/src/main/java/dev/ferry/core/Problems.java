package dev.ferry.core;

/**
 * Where invalid input is reported. Each report names the object (kind and namespace/name, or
 * the file) and the field, so an operator can find and fix it; the object is then skipped.
 */
@FunctionalInterface
public interface Problems {

    Problems IGNORE = (object, field, message) -> { };

    void report(String object, String field, String message);
}
