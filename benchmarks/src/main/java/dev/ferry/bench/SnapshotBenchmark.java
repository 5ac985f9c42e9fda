package dev.ferry.bench;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.ProxySnapshot;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Snapshot building through {@link ChangeTracker}: {@code initial} converts and applies every
 * Service and EndpointSlice into a fresh tracker and takes the first snapshot (what a proxy
 * start costs); {@code oneSliceChange} applies one EndpointSlice update to a full tracker and
 * takes the next snapshot (what every endpoint change costs before the backend runs).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class SnapshotBenchmark {

    @Param({"10000"})
    public int services;

    @Param({"10"})
    public int endpoints;

    private final List<Service> serviceObjects = new ArrayList<>();
    private final List<EndpointSlice> sliceObjects = new ArrayList<>();
    private ChangeTracker full;
    private EndpointSlice original;
    private EndpointSlice moved;
    private boolean flip;

    @Setup(Level.Trial)
    public void setUp() {
        Cluster cluster = new Cluster(services, endpoints);
        for (int i = 0; i < services; i++) {
            serviceObjects.add(cluster.service(i));
            sliceObjects.add(cluster.slice(i));
        }
        full = Cluster.newTracker();
        initialInto(full);
        int k = services / 2;
        original = cluster.slice(k);
        moved = cluster.changedSlice(k, 1);
    }

    @Benchmark
    public ProxySnapshot initial() {
        return initialInto(Cluster.newTracker());
    }

    private ProxySnapshot initialInto(ChangeTracker tracker) {
        for (int i = 0; i < serviceObjects.size(); i++) {
            tracker.updateService(null, serviceObjects.get(i));
            tracker.updateEndpointSlice(null, sliceObjects.get(i));
        }
        return tracker.snapshot();
    }

    @Benchmark
    public ProxySnapshot oneSliceChange() {
        flip = !flip;
        if (flip) {
            full.updateEndpointSlice(original, moved);
        } else {
            full.updateEndpointSlice(moved, original);
        }
        return full.snapshot();
    }
}
