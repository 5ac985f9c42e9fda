package dev.ferry.proxy.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Upstream kube-proxy exits when its config file changes, so that the DaemonSet restarts it with
 * the new configuration (an edited ConfigMap reaches the mounted file by itself). This does the
 * same check: it reads the file every interval and calls {@code onChange} once, when the content
 * differs from what was loaded.
 *
 * <p>Threads: one daemon thread reads the file; {@code onChange} runs on it. Failures: an
 * unreadable file (a ConfigMap volume swapping its symlink, a file being rewritten) is not a
 * change; the next read decides. Comparing content, not timestamps, means touching the file
 * restarts nothing.
 */
public final class ConfigFileWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigFileWatch.class);

    private final Path file;
    private final byte[] loaded;
    private final Runnable onChange;
    private final ScheduledExecutorService timer;
    private boolean fired; // timer thread only

    private ConfigFileWatch(Path file, byte[] loaded, Runnable onChange) {
        this.file = file;
        this.loaded = loaded;
        this.onChange = onChange;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "config-file-watch");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts watching {@code file}, from which {@code loaded} was read: any change since counts. */
    public static ConfigFileWatch start(Path file, KubeProxyConfigFile loaded, Duration interval, Runnable onChange) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        ConfigFileWatch w = unscheduled(file, loaded.content(), onChange);
        w.timer.scheduleWithFixedDelay(w::check, interval.toNanos(), interval.toNanos(), TimeUnit.NANOSECONDS);
        return w;
    }

    /** For tests: a watch whose {@link #check()} is called by hand. */
    static ConfigFileWatch unscheduled(Path file, byte[] loaded, Runnable onChange) {
        return new ConfigFileWatch(Objects.requireNonNull(file, "file"), loaded.clone(),
                Objects.requireNonNull(onChange, "onChange"));
    }

    void check() {
        if (fired) {
            return;
        }
        byte[] now;
        try {
            now = Files.readAllBytes(file);
        } catch (IOException e) {
            log.debug("config file {} unreadable for now ({}); checking again", file, e.toString());
            return;
        }
        if (!Arrays.equals(now, loaded)) {
            fired = true;
            log.warn("config file {} changed; exiting so that the new configuration is read at restart", file);
            try {
                onChange.run();
            } catch (RuntimeException e) {
                log.error("reacting to the config file's change failed", e);
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
