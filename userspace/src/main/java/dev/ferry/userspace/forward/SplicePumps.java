package dev.ferry.userspace.forward;

import dev.ferry.nativeio.Splice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The splice pumps of a {@link Forwarders}: one thread each, connections spread over them in turn. Thread-safe.
 * Created only where splice works (Linux, libc through jnr-ffi, the epoll transport); otherwise every connection
 * stays on the Netty data path.
 */
final class SplicePumps implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SplicePumps.class);

    private final List<SplicePump> pumps;
    private final int pipeCapacity;
    private final AtomicInteger turn = new AtomicInteger();

    private SplicePumps(List<SplicePump> pumps, int pipeCapacity) {
        this.pumps = pumps;
        this.pipeCapacity = pipeCapacity;
    }

    /** {@code count} pumps, or null (logged) when splice is unavailable here. */
    static SplicePumps start(int count, long idleNanos, int pipeCapacity) {
        if (!Splice.isAvailable()) {
            log.info("TCP relays copy through the JVM: splice is unavailable ({})", Splice.unavailabilityCause());
            return null;
        }
        List<SplicePump> pumps = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                pumps.add(new SplicePump("ferry-splice-" + i, idleNanos));
            }
        } catch (IOException e) {
            log.warn("TCP relays copy through the JVM: cannot start a splice pump: {}", e.getMessage());
            pumps.forEach(SplicePump::close);
            return null;
        }
        return new SplicePumps(List.copyOf(pumps), pipeCapacity);
    }

    int pipeCapacity() {
        return pipeCapacity;
    }

    SplicePump next() {
        return pumps.get(Math.floorMod(turn.getAndIncrement(), pumps.size()));
    }

    /** Closes these connections, wherever they live; waits until they are closed (bounded). */
    static void closeAll(Iterable<SplicedConnection> connections, SplicePumps owner) {
        if (owner == null) {
            return;
        }
        List<SplicedConnection> all = new ArrayList<>();
        connections.forEach(all::add);
        if (all.isEmpty()) {
            return;
        }
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (SplicePump pump : owner.pumps) {
            List<SplicedConnection> its = all.stream().filter(c -> c.pump == pump).toList();
            if (!its.isEmpty()) {
                closing.add(pump.close(its));
            }
        }
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("closing {} spliced connections did not finish in 5s: {}", all.size(), e.toString());
        }
    }

    @Override
    public void close() {
        pumps.forEach(SplicePump::close);
    }
}
