package dev.ferry.bench;

import dev.ferry.core.Endpoint;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import dev.ferry.iptables.ChainNames;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Chain name hashing (sha256 + base32, upstream's names): one KUBE-SVC name and one KUBE-SEP
 * name. A full 10,000 x 10 sync computes about 10,000 of the first and 200,000 of the second
 * (each endpoint chain is named where it is declared and where it is jumped to).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ChainNameBenchmark {

    private final ServicePortName name = new ServicePortName("bench-5", "svc-5000", "p80", Protocol.TCP);
    private final Endpoint endpoint = Endpoint.ready(IpAddresses.parse("10.1.195.80"), 80);

    @Benchmark
    public String serviceChain() {
        return ChainNames.service(name);
    }

    @Benchmark
    public String endpointChain() {
        return ChainNames.endpoint(name, endpoint);
    }
}
