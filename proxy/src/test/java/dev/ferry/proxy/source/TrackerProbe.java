package dev.ferry.proxy.source;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Endpoint;
import dev.ferry.core.Poll;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortState;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * A real ChangeTracker with its problems recorded, read the way the sync thread reads it:
 * through snapshots. The test thread plays the sync thread.
 */
final class TrackerProbe {

    final List<InputProblems.Problem> problems = new CopyOnWriteArrayList<>();
    final InputProblems inputProblems = new InputProblems(problems::add);
    final ChangeTracker tracker;
    private ProxySnapshot last;

    TrackerProbe(String hostname) {
        tracker = new ChangeTracker(hostname, inputProblems, () -> { });
    }

    /** Service port ("ns/name:port") to its endpoints ("ip:port", sorted), from a fresh snapshot. */
    Map<String, List<String>> services() {
        last = tracker.snapshot();
        Map<String, List<String>> out = new TreeMap<>();
        for (ServicePortState s : last.servicePorts()) {
            out.put(s.name().toString(), s.endpoints().stream().map(Endpoint::hostPort).sorted().toList());
        }
        return out;
    }

    Map<String, String> nodeLabels() {
        last = tracker.snapshot();
        return last.node().labels();
    }

    void awaitServices(String what, Predicate<Map<String, List<String>>> condition) {
        AtomicReference<Map<String, List<String>>> seen = new AtomicReference<>();
        Poll.until(what, Poll.DEFAULT, () -> {
            seen.set(services());
            return condition.test(seen.get());
        }, () -> String.valueOf(seen.get()));
    }

    void awaitProblems(String what, Predicate<List<InputProblems.Problem>> condition) {
        Poll.until(what, Poll.DEFAULT, () -> condition.test(problems), problems::toString);
    }

    static Duration shortInterval() {
        return Duration.ofMillis(50);
    }
}
