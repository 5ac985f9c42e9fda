package dev.ferry.bench;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.netfilter.CommandRunner;
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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Our iptables work per sync without the kernel: the backend over a {@link CannedKernel}, so
 * what is timed is reading the saved tables (when the backend reads them), writing the
 * restore payload and encoding it (streamed into a byte counter). 2 GB heap: the canned
 * tables of {@code fullResync} are the harness's, not the proxy's.
 *
 * <ul>
 *   <li>{@code full}: a new backend's first sync onto a node without rules (pure rule generation);</li>
 *   <li>{@code fullLongLived}: the same on a long-lived backend whose every sync is full;</li>
 *   <li>{@code fullResync}: a full sync onto a node that already has all the rules (also
 *       parses the saved tables, to find stale chains);</li>
 *   <li>{@code partial}: one Service's first endpoint changes after a full sync (each call
 *       flips it between two addresses, so every call is a real one-Service change).</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class RuleGenerationBenchmark {

    @Param({"10000"})
    public int services;

    @Param({"10"})
    public int endpoints;

    private ProxySnapshot full;
    private ProxySnapshot changed;
    private ProxySnapshot changedBack;
    private CannedKernel afterFull;
    private IptablesBackend partialBackend;
    private IptablesBackend alwaysFull;
    private boolean flip;

    @Setup(Level.Trial)
    public void setUp() {
        Cluster cluster = new Cluster(services, endpoints);
        ChangeTracker tracker = Cluster.newTracker();
        full = cluster.fullSnapshot(tracker);
        int k = services / 2;
        tracker.updateEndpointSlice(cluster.slice(k), cluster.changedSlice(k, 1));
        changed = tracker.snapshot();
        tracker.updateEndpointSlice(cluster.changedSlice(k, 1), cluster.slice(k));
        changedBack = tracker.snapshot();

        CapturingKernel capture = new CapturingKernel();
        check(Backends.inProcess(capture).sync(full));
        afterFull = CannedKernel.after(capture.lastPayload());
        // The partial backend starts from the full snapshot's rules; its next syncs are the
        // one-Service changes (changedBack restores exactly what the canned tables hold).
        partialBackend = Backends.inProcess(afterFull);
        check(partialBackend.sync(full));
        alwaysFull = Backends.inProcessAlwaysFull(CannedKernel.empty());
    }

    @Benchmark
    public SyncResult full() {
        return check(Backends.inProcess(CannedKernel.empty()).sync(full));
    }

    /** A long-lived backend whose every sync is full (as the hourly one): buffers are reused. */
    @Benchmark
    public SyncResult fullLongLived() {
        return check(alwaysFull.sync(full));
    }

    @Benchmark
    public SyncResult fullResync() {
        return check(Backends.inProcess(afterFull).sync(full));
    }

    @Benchmark
    public SyncResult partial() {
        flip = !flip;
        return check(partialBackend.sync(flip ? changed : changedBack));
    }

    static SyncResult check(SyncResult r) {
        if (!r.ok()) {
            throw new IllegalStateException("sync failed: " + r.error());
        }
        return r;
    }

    /** Keeps what a sync would restore, to build the canned tables from. */
    static final class CapturingKernel implements CommandRunner {
        private final ByteArrayOutputStream last = new ByteArrayOutputStream();

        String lastPayload() {
            return last.toString(StandardCharsets.UTF_8);
        }

        @Override
        public Result run(List<String> argv, byte[] stdin) throws IOException {
            return runStreaming(argv, stdin == null ? null : out -> out.write(stdin));
        }

        @Override
        public Result runStreaming(List<String> argv, Input stdin) throws IOException {
            if (argv.get(0).endsWith("-restore") && stdin != null) {
                last.reset();
                stdin.writeTo(last);
            }
            return new Result(0, "", "");
        }
    }
}
