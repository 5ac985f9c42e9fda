package dev.ferry.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.core.ChangeTracker;
import dev.ferry.proxy.source.FileSource;
import dev.ferry.proxy.source.InputProblems;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The --manifests reader at scale: {@code services} Services and as many EndpointSlices of
 * {@code endpoints} endpoints each (20,000 objects at the defaults), written once as one
 * multi-document YAML file the way {@code kubectl get -o yaml} prints each object.
 *
 * <ul>
 *   <li>{@code fileSource}: ours, end to end: a new {@link FileSource} lists the directory,
 *       reads and hashes the file, parses every document into its fabric8 type and hands it to
 *       a {@link ChangeTracker} (which converts it into the service model); timed until the
 *       source reports itself synced.</li>
 *   <li>{@code baselineTree}: the floor: plain Jackson over SnakeYAML reads the same file into
 *       one tree per document and drops it; no types, no tracker.</li>
 *   <li>{@code baselineTreeThenConvert}: the textbook way: each tree converted to its fabric8
 *       type with fabric8's own {@code KubernetesSerialization.convertValue}; no tracker.</li>
 * </ul>
 *
 * <p>Each also runs cold ({@code cold*}: one read in a fresh JVM, five JVMs), which is what a
 * proxy starting on such a directory pays: the YAML parser is then still interpreted.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class ManifestReadingBenchmark {

    @Param({"10000"})
    public int services;

    @Param({"10"})
    public int endpoints;

    private Path dir;
    private Path file;
    private final ObjectReader treeReader = new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class);
    private final KubernetesSerialization fabric8 = new KubernetesSerialization();

    @Setup(Level.Trial)
    public void writeManifests() throws IOException {
        dir = Files.createTempDirectory("fy-manifests-bench");
        file = dir.resolve("cluster.yaml");
        Cluster cluster = new Cluster(services, endpoints);
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int i = 0; i < services; i++) {
                out.write(yaml(cluster.service(i)));
                out.write(yaml(cluster.slice(i)));
            }
        }
    }

    /** One document, starting with "---" as Jackson's YAML writer starts each. */
    private String yaml(Object object) {
        String text = fabric8.asYaml(object);
        return text.startsWith("---") ? text : "---\n" + text;
    }

    @TearDown(Level.Trial)
    public void removeManifests() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    @Benchmark
    public long fileSource() throws InterruptedException {
        return readWithFileSource();
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    @Fork(value = 5, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public long coldFileSource() throws InterruptedException {
        return readWithFileSource();
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    @Fork(value = 5, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public long coldBaselineTree() throws IOException {
        return baselineTree();
    }

    private long readWithFileSource() throws InterruptedException {
        ChangeTracker tracker = Cluster.newTracker();
        try (FileSource source = new FileSource(dir, tracker, InputProblems.logging(), Duration.ofHours(1))) {
            source.start();
            if (!source.awaitSynced(Duration.ofMinutes(1))) {
                throw new IllegalStateException("the file source did not sync within a minute");
            }
        }
        return tracker.serviceChangesTotal() + tracker.endpointChangesTotal();
    }

    @Benchmark
    public long baselineTree() throws IOException {
        long documents = 0;
        try (InputStream in = Files.newInputStream(file); MappingIterator<JsonNode> it = treeReader.readValues(in)) {
            while (it.hasNextValue()) {
                documents += it.nextValue().size();
            }
        }
        return documents;
    }

    @Benchmark
    public long baselineTreeThenConvert() throws IOException {
        long objects = 0;
        try (InputStream in = Files.newInputStream(file); MappingIterator<JsonNode> it = treeReader.readValues(in)) {
            while (it.hasNextValue()) {
                JsonNode doc = it.nextValue();
                Class<?> type = "Service".equals(doc.path("kind").asText())
                        ? io.fabric8.kubernetes.api.model.Service.class
                        : io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class;
                objects += fabric8.convertValue(doc, type) != null ? 1 : 0;
            }
        }
        return objects;
    }
}
