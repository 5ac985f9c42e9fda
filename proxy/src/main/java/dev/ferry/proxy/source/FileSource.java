package dev.ferry.proxy.source;

import dev.ferry.core.ChangeTracker;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The --manifests source: every *.yaml, *.yml and *.json file in one directory (not its
 * subdirectories) holds Services, EndpointSlices and Nodes, as if an API server served them.
 *
 * <p>It polls: every {@code interval} it lists the directory and reads each file, and only a
 * file whose content hash changed is parsed again. The objects of all files form the desired
 * state (the first file in name order wins when two define the same object; the other is
 * reported), which is diffed against what the tracker was last told. Because files are parsed
 * and objects passed on only when they change, each bad file or object is reported once per
 * content. A file that stops parsing keeps its previous objects (a half-written file must not
 * take Services down); a removed file takes its objects with it.
 *
 * <p>Threads: one daemon thread ("ferry-manifests") does every scan and every tracker call;
 * all state below is confined to it. A scan that fails unexpectedly is logged and the next one
 * runs as usual.
 */
public final class FileSource implements Source {

    private static final Logger log = LoggerFactory.getLogger(FileSource.class);
    public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(500);

    /**
     * A file as last read: its content hash, its objects, how many it held, rejected and ignored,
     * and whether it failed to parse (then the objects and counts are those of before).
     */
    private record FileState(String hash, List<ManifestParser.Parsed> objects, int read, int rejected, int ignored,
                             boolean broken) {
    }

    private record Entry(Path file, HasMetadata object) {
    }

    private final Path dir;
    private final ChangeTracker tracker;
    private final InputProblems problems;
    private final ManifestParser parser;
    private final Duration interval;
    private final CountDownLatch synced = new CountDownLatch(1);
    private final ScheduledExecutorService executor;

    // Scan-thread state.
    private final Map<Path, FileState> files = new HashMap<>();
    private Map<ManifestParser.Key, Entry> applied = new HashMap<>();
    private Set<String> reportedConflicts = Set.of();
    /** Objects left out because another file defined them first. */
    private int conflicts;
    /** Applied objects the tracker refused (it reported them): not counted as accepted. */
    private final Set<ManifestParser.Key> refused = new HashSet<>();
    private String lastListingError;
    private final byte[] hashBuffer = new byte[64 * 1024];

    public FileSource(Path dir, ChangeTracker tracker, InputProblems problems, Duration interval) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.tracker = Objects.requireNonNull(tracker, "tracker");
        this.problems = Objects.requireNonNull(problems, "problems");
        this.parser = new ManifestParser(problems);
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("poll interval must be positive: " + interval);
        }
        this.interval = interval;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ferry-manifests");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void start() {
        executor.scheduleWithFixedDelay(this::scanSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public boolean awaitSynced(Duration timeout) throws InterruptedException {
        return synced.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    private void scanSafely() {
        try {
            if (scan()) {
                if (synced.getCount() > 0) {
                    log.info("read {} manifest file(s) in {}: {}", files.size(), dir, counts());
                }
                synced.countDown();
            }
        } catch (RuntimeException e) {
            log.error("scanning {} failed; trying again in {} ms", dir, interval.toMillis(), e);
        }
    }

    /** One pass; false when the directory could not be listed (then nothing changes). */
    private boolean scan() {
        List<Path> present;
        try (Stream<Path> s = Files.list(dir)) {
            present = s.filter(FileSource::isManifest).sorted().toList();
            lastListingError = null;
        } catch (IOException e) {
            String message = "cannot list " + dir + ": " + e + "; keeping what was read before";
            if (!message.equals(lastListingError)) {
                log.warn(message);
                lastListingError = message;
            }
            return false;
        }
        boolean changed = files.keySet().retainAll(new HashSet<>(present));
        for (Path file : present) {
            changed |= readIfChanged(file);
        }
        if (changed) {
            // The wanted objects follow from the files alone: with no file read anew or
            // removed, they are what was applied, and comparing every object is wasted work.
            apply(desired(present));
        }
        return true;
    }

    private static boolean isManifest(Path p) {
        String name = p.getFileName().toString();
        return !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json"))
                && Files.isRegularFile(p);
    }

    /**
     * Parses {@code file} when its content changed; true when it did. The file is streamed
     * twice when it changed (once to hash it, once to parse and hash what was parsed) and never
     * held whole: a big file costs its objects, not its bytes.
     */
    private boolean readIfChanged(Path file) {
        FileState old = files.get(file);
        ManifestParser.Result result;
        String hash;
        try {
            if (old != null && old.hash().equals(hash(file))) {
                return false;
            }
            log.debug("reading {}", file);
            try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file), sha256())) {
                result = parser.parse(file.toString(), in);
                hash = hashToEnd(in); // with what the parser left (after a syntax error): the hash covers the whole file
            }
        } catch (IOException e) {
            // Removed between listing and reading, or unreadable: the next scan decides.
            log.debug("cannot read {}: {}", file, e.toString());
            return false;
        }
        if (result.syntaxError() && old != null && !old.objects().isEmpty()) {
            log.warn("{}: keeping its {} previously read object(s) until it parses again", file, old.objects().size());
            files.put(file, new FileState(hash, old.objects(), old.read(), old.rejected(), old.ignored(), true));
        } else {
            files.put(file, new FileState(hash, result.objects(), result.read(), result.rejected(), result.ignored(),
                    result.syntaxError()));
        }
        return true;
    }

    /** The SHA-256 of {@code file}'s content, read through one small buffer. */
    private String hash(Path file) throws IOException {
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(hashBuffer); n >= 0; n = in.read(hashBuffer)) {
                digest.update(hashBuffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The SHA-256 of all {@code in} read, after reading what is left of it. */
    private String hashToEnd(DigestInputStream in) throws IOException {
        while (in.read(hashBuffer) >= 0) {
            // the digest sees every byte read
        }
        return HexFormat.of().formatHex(in.getMessageDigest().digest());
    }

    /**
     * "5 object(s) read: 3 accepted, 1 rejected (reported above), 1 of other kinds ignored": an
     * object is accepted when it reached the tracker and the tracker took it.
     */
    private String counts() {
        int read = 0;
        int rejected = conflicts;
        int ignored = 0;
        int broken = 0;
        for (FileState f : files.values()) {
            read += f.read();
            rejected += f.rejected();
            ignored += f.ignored();
            broken += f.broken() ? 1 : 0;
        }
        int accepted = applied.size() - refused.size();
        rejected += refused.size();
        int replaced = read - accepted - rejected - ignored; // by a later document of the same file
        return read + " object(s) read: " + accepted + " accepted, " + rejected + " rejected"
                + (rejected > 0 ? " (reported above)" : "")
                + (ignored > 0 ? ", " + ignored + " of other kinds ignored" : "")
                + (replaced > 0 ? ", " + replaced + " replaced by a later document of the same file" : "")
                + (broken > 0 ? "; " + broken + " file(s) do not parse (reported above)" : "");
    }

    private Map<ManifestParser.Key, Entry> desired(List<Path> present) {
        Map<ManifestParser.Key, Entry> out = new LinkedHashMap<>();
        Set<String> conflicts = new HashSet<>();
        int dropped = 0;
        for (Path file : present) {
            FileState state = files.get(file);
            if (state == null) {
                continue;
            }
            for (ManifestParser.Parsed p : state.objects()) {
                Entry first = out.putIfAbsent(p.key(), new Entry(file, p.object()));
                if (first != null && !first.file().equals(file)) {
                    dropped++;
                    String conflict = file + " " + p.key() + " " + first.file();
                    if (conflicts.add(conflict) && !reportedConflicts.contains(conflict)) {
                        problems.reportInput(file.toString(), p.key().toString(),
                                "also defined in " + first.file() + ", which wins; ignored here");
                    }
                } else if (first != null) {
                    out.put(p.key(), new Entry(file, p.object())); // the later document of the same file wins
                }
            }
        }
        reportedConflicts = conflicts;
        this.conflicts = dropped;
        return out;
    }

    private void apply(Map<ManifestParser.Key, Entry> desired) {
        for (Map.Entry<ManifestParser.Key, Entry> e : applied.entrySet()) {
            if (!desired.containsKey(e.getKey())) {
                Entry gone = e.getValue();
                problems.within(gone.file().toString(), () -> tell(gone.object(), null));
                refused.remove(e.getKey());
            }
        }
        List<Entry> changed = new ArrayList<>();
        for (Map.Entry<ManifestParser.Key, Entry> e : desired.entrySet()) {
            Entry before = applied.get(e.getKey());
            Entry now = e.getValue();
            if (before == null || !before.object().equals(now.object())) {
                changed.add(now);
                int reported = problems.within(now.file().toString(),
                        () -> tell(before == null ? null : before.object(), now.object()));
                if (reported > 0) {
                    refused.add(e.getKey());
                } else {
                    refused.remove(e.getKey());
                }
            }
        }
        if (!changed.isEmpty()) {
            log.debug("{} object(s) changed in {}", changed.size(), dir);
        }
        applied = new HashMap<>(desired);
    }

    /** One object went from {@code previous} to {@code current} (either may be null, not both). */
    private void tell(HasMetadata previous, HasMetadata current) {
        HasMetadata any = current != null ? current : previous;
        if (any instanceof Service) {
            tracker.updateService((Service) previous, (Service) current);
        } else if (any instanceof EndpointSlice) {
            tracker.updateEndpointSlice((EndpointSlice) previous, (EndpointSlice) current);
        } else if (any instanceof Node && current != null) {
            tracker.updateNode((Node) current); // a removed Node keeps its last labels, as upstream
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JVM has SHA-256", e);
        }
    }
}
