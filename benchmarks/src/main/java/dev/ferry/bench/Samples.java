package dev.ferry.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Repeated measurements of one quantity (nanoseconds or bytes): median, min, all values. */
final class Samples {

    private final List<Long> values = new ArrayList<>();

    void add(long value) {
        values.add(value);
    }

    boolean isEmpty() {
        return values.isEmpty();
    }

    long median() {
        List<Long> sorted = sorted();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    long min() {
        return sorted().get(0);
    }

    List<Long> values() {
        return List.copyOf(values);
    }

    private List<Long> sorted() {
        if (values.isEmpty()) {
            throw new IllegalStateException("no samples");
        }
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted;
    }
}
