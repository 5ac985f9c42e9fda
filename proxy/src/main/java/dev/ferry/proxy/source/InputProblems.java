package dev.ferry.proxy.source;

import dev.ferry.core.Problems;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Where invalid input ends up. The core names the object and the field; a source adds where
 * the object came from (its file) by running its tracker calls {@link #within} that origin, so
 * an operator can find and fix it.
 *
 * <p>Threads: the origin is per thread, so the file source's scan thread and the informers'
 * threads never see each other's origin. The sink is called on the reporting thread.
 */
public final class InputProblems implements Problems {

    private static final Logger log = LoggerFactory.getLogger(InputProblems.class);

    /**
     * One report.
     *
     * @param origin file (or null when the object came from the API server)
     * @param object e.g. "Service default/web", or null when the whole file is at fault
     * @param field  e.g. "spec.ports[0].port", or null
     */
    record Problem(String origin, String object, String field, String message) {
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            if (origin != null) {
                b.append(origin).append(": ");
            }
            if (object != null) {
                b.append(object).append(": ");
            }
            if (field != null) {
                b.append(field).append(": ");
            }
            return b.append(message).toString();
        }
    }

    private final ThreadLocal<String> origin = new ThreadLocal<>();
    private final Consumer<Problem> sink;

    InputProblems(Consumer<Problem> sink) {
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** Reports as warnings in the log. */
    public static InputProblems logging() {
        return new InputProblems(p -> log.warn("invalid input, skipped: {}", p));
    }

    /** Runs {@code action}, attributing whatever it reports on this thread to {@code where}. */
    void within(String where, Runnable action) {
        String previous = origin.get();
        origin.set(where);
        try {
            action.run();
        } finally {
            if (previous == null) {
                origin.remove();
            } else {
                origin.set(previous);
            }
        }
    }

    @Override
    public void report(String object, String field, String message) {
        sink.accept(new Problem(origin.get(), object, field, message));
    }

    /** A problem of a whole file, or of a document in it that never became an object. */
    void reportInput(String where, String object, String message) {
        sink.accept(new Problem(where, object, null, message));
    }
}
