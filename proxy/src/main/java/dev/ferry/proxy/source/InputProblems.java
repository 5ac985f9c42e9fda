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

    /** Where this thread's reports come from now, and how many it made there. */
    private static final class Origin {
        final String where;
        int reports;

        Origin(String where) {
            this.where = where;
        }
    }

    private final ThreadLocal<Origin> origin = new ThreadLocal<>();
    private final Consumer<Problem> sink;

    InputProblems(Consumer<Problem> sink) {
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** Reports as warnings in the log. */
    public static InputProblems logging() {
        return new InputProblems(p -> log.warn("invalid input, skipped: {}", p));
    }

    /**
     * Runs {@code action}, attributing whatever it reports on this thread to {@code where}.
     *
     * @return how many problems it reported (0: the objects it passed on were accepted)
     */
    int within(String where, Runnable action) {
        Origin previous = origin.get();
        Origin current = new Origin(where);
        origin.set(current);
        try {
            action.run();
        } finally {
            if (previous == null) {
                origin.remove();
            } else {
                origin.set(previous);
            }
        }
        return current.reports;
    }

    @Override
    public void report(String object, String field, String message) {
        Origin o = origin.get();
        if (o != null) {
            o.reports++;
        }
        sink.accept(new Problem(o == null ? null : o.where, object, field, message));
    }

    /** A problem of a whole file, or of a document in it that never became an object. */
    void reportInput(String where, String object, String message) {
        sink.accept(new Problem(where, object, null, message));
    }

    /** Reports {@code problem} as it is (the file source's parser builds them whole). */
    void reportInput(Problem problem) {
        sink.accept(problem);
    }
}
