package dev.ferry.proxy;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.ExecutorScheduler;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncGuard;
import dev.ferry.core.SyncResult;
import dev.ferry.core.SyncRunner;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.proxy.conntrack.ConntrackReconciler;
import dev.ferry.proxy.health.HealthServer;
import dev.ferry.proxy.health.ProxyHealth;
import dev.ferry.proxy.health.ServiceHealthServers;
import dev.ferry.proxy.metrics.MetricsServer;
import dev.ferry.proxy.metrics.ProxyMetrics;
import dev.ferry.proxy.source.InputProblems;
import dev.ferry.proxy.source.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The running proxy: a source feeds the change tracker; the sync runner decides when to sync;
 * a sync takes a snapshot and hands it to every backend (one per IP family).
 *
 * <p>Threads: the source calls the tracker on its own threads, and the tracker asks the runner
 * for a sync. Syncs run on the "ferry-sync" thread, one at a time, or with {@link #syncOnce} on
 * the caller's thread (for --once, where the runner never starts). Failures: a backend that
 * fails keeps its rules; the runner retries with backoff. {@link #close()} stops the source and
 * the sync thread and leaves the rules in place, as upstream does on SIGTERM.
 *
 * <p>Health: each backend is a "proxier" of {@link ProxyHealth}, named by its IP family as upstream's
 * (queued on every change, updated after each successful sync of it); after a sync in which every
 * backend succeeded, the health check node port servers (if serving) follow the snapshot, on the
 * sync thread. Metrics: {@link ProxyMetrics} hears of every queued change, sync and conntrack run;
 * {@link #serveHttp} serves them and /healthz, /livez on one Netty event loop per server; an address
 * that cannot be bound is logged and retried every {@link #HTTP_RETRY} on "ferry-http-retry", as
 * upstream retries, and never stops the proxy (unless --bind-address-hard-fail asks it to).
 * Conntrack: after each successful sync of a family, the reconciler (if set) deletes that
 * family's stale UDP flows, on the sync thread.
 */
final class ProxyDaemon implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyDaemon.class);

    /** How soon a health or metrics address that could not be bound is tried again (upstream: 5 s). */
    static final Duration HTTP_RETRY = Duration.ofSeconds(5);

    private final ChangeTracker tracker;
    private final ModeRuntime runtime;
    private final List<FamilyBackend> backends;
    private final Source source;
    private final ExecutorScheduler scheduler = new ExecutorScheduler("ferry-sync");
    private final SyncRunner runner;
    private final int[] consecutiveFailures; // per backend; sync thread only
    private final long[] applyFailures; // per backend; sync thread only
    private final ProxyHealth health;
    private volatile ServiceHealthServers healthChecks; // set before syncing starts; null: not serving
    private volatile ConntrackReconciler conntrack; // set before syncing starts; null: no cleanup (--dry-run)
    private final ProxyMetrics metrics;
    private final List<AutoCloseable> httpServers = new CopyOnWriteArrayList<>();
    private ScheduledExecutorService httpRetry; // guarded by httpServers; created at the first failed bind
    private volatile boolean closed;

    /**
     * @param mode          the --proxy-mode value, served at /proxyMode
     * @param runtime       the started mode: its backends (closed with the daemon) and its metrics
     * @param sourceFactory builds the source around the tracker (not started yet)
     */
    ProxyDaemon(String hostname, InputProblems problems, String mode, ModeRuntime runtime,
                Function<ChangeTracker, Source> sourceFactory, Duration minSyncPeriod, Duration syncPeriod) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.backends = runtime.backends();
        this.consecutiveFailures = new int[backends.size()];
        this.applyFailures = new long[backends.size()];
        this.health = ProxyHealth.forSyncPeriod(syncPeriod);
        this.metrics = new ProxyMetrics(mode, runtime.metrics(), Clock.systemUTC());
        for (FamilyBackend b : backends) {
            metrics.proxier(b.family());
        }
        this.tracker = new ChangeTracker(hostname, problems, this::changed);
        metrics.watch(tracker);
        this.runner = new SyncRunner(scheduler, minSyncPeriod, syncPeriod, this::syncOnce);
        this.source = Objects.requireNonNull(sourceFactory.apply(tracker), "source");
    }

    /** The proxy's health, for /healthz and the health check node ports. */
    ProxyHealth health() {
        return health;
    }

    /** The proxy's metrics. */
    ProxyMetrics metrics() {
        return metrics;
    }

    /** The change tracker the source feeds (tests feed it directly). */
    ChangeTracker tracker() {
        return tracker;
    }

    /**
     * Serves /healthz and /livez on {@code healthz} and /metrics, /proxyMode on {@code metrics},
     * until the daemon closes; null skips a server (its flag was ""). Never fails: an address that
     * cannot be bound is logged and retried every {@link #HTTP_RETRY}, as upstream does when
     * --bind-address-hard-fail is off.
     */
    void serveHttp(BindAddress healthz, BindAddress metricsAddress) {
        serveHttp(healthz, metricsAddress, (reason, error) -> { });
    }

    /** Upstream's event reasons for a health or metrics server that cannot start. */
    static final String HEALTHZ_FAILED = "FailedToStartProxierHealthcheck";
    static final String METRICS_FAILED = "FailedToStartMetricServer";

    /**
     * The same, telling {@code bindFailed} (reason, error) once when a server cannot listen, as
     * upstream records a Warning event on the Node (reason {@value #HEALTHZ_FAILED} or
     * {@value #METRICS_FAILED}). It is called on the "ferry-http-retry" thread, so it may block
     * (e.g. post the event) without delaying startup.
     */
    void serveHttp(BindAddress healthz, BindAddress metricsAddress, BiConsumer<String, String> bindFailed) {
        serveHttp(healthz, metricsAddress, bindFailed, null);
    }

    /**
     * The same; with {@code hardFail} set (--bind-address-hard-fail), a server that cannot listen is
     * not retried: after {@code bindFailed} is told, {@code hardFail} runs (the caller stops the proxy).
     */
    void serveHttp(BindAddress healthz, BindAddress metricsAddress, BiConsumer<String, String> bindFailed,
                   Runnable hardFail) {
        Objects.requireNonNull(bindFailed, "bindFailed");
        if (healthz != null) {
            bindOrRetry("the health server", healthz, () -> HealthServer.start(socket(healthz), health,
                    tracker::nodeEligible, metrics), error -> bindFailed.accept(HEALTHZ_FAILED, error), hardFail);
        }
        if (metricsAddress != null) {
            bindOrRetry("the metrics server", metricsAddress, () -> MetricsServer.start(socket(metricsAddress), metrics),
                    error -> bindFailed.accept(METRICS_FAILED, error), hardFail);
        }
    }

    /** Where a server of {@link #serveHttp} listens, once bound (tests ask for port 0). */
    List<InetSocketAddress> httpAddresses() {
        return httpServers.stream().map(s -> s instanceof HealthServer h ? h.address()
                : ((MetricsServer) s).address()).toList();
    }

    private interface Opener {
        AutoCloseable open() throws IOException;
    }

    private static InetSocketAddress socket(BindAddress address) {
        return new InetSocketAddress(address.address(), address.port());
    }

    private void bindOrRetry(String what, BindAddress address, Opener opener, Consumer<String> failed, Runnable hardFail) {
        synchronized (httpServers) {
            if (closed) {
                return;
            }
            String error;
            try {
                httpServers.add(opener.open());
                return;
            } catch (IOException | RuntimeException e) {
                error = e.getMessage() != null ? e.getMessage() : e.toString();
                if (hardFail != null) {
                    log.error("{} cannot listen on {}: {}; stopping (--bind-address-hard-fail)", what, address, error);
                    try {
                        failed.accept("cannot listen on " + address + ": " + error);
                    } finally {
                        hardFail.run();
                    }
                    return;
                }
                log.error("{} cannot listen on {}: {}; retrying every {} s", what, address, error, HTTP_RETRY.toSeconds());
            }
            if (httpRetry == null) {
                httpRetry = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "ferry-http-retry");
                    t.setDaemon(true);
                    return t;
                });
            }
            String note = "cannot listen on " + address + ": " + error;
            httpRetry.execute(() -> {
                try {
                    failed.accept(note);
                } catch (RuntimeException e) {
                    log.warn("reporting that {} cannot listen failed: {}", what, e.toString());
                }
            });
            httpRetry.schedule(() -> retryBind(what, address, opener), HTTP_RETRY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void retryBind(String what, BindAddress address, Opener opener) {
        synchronized (httpServers) {
            if (closed) {
                return;
            }
            try {
                httpServers.add(opener.open());
                log.info("{} listens on {} now", what, address);
            } catch (IOException | RuntimeException e) {
                log.debug("{} still cannot listen on {}: {}", what, address, e.toString());
                httpRetry.schedule(() -> retryBind(what, address, opener), HTTP_RETRY.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Serves health check node ports from now on (call before {@link #startSyncing}). */
    void serveHealthCheckNodePorts(List<String> nodePortAddresses) {
        healthChecks = new ServiceHealthServers(health, nodePortAddresses, Duration.ofSeconds(5));
    }

    /**
     * Deletes stale UDP conntrack flows after each successful sync of a family (call before the
     * first sync). Closed with the daemon.
     */
    void cleanConntrack(ConntrackReconciler reconciler) {
        conntrack = reconciler;
    }

    /** Starts the source only; {@link #startSyncing} waits for it before the first sync. */
    void startSource() {
        source.start();
    }

    /**
     * Waits for the source's initial state (logging while it takes long, giving up when
     * {@code stopped} says so), then starts the sync loop.
     *
     * @return false when stopped before the source synced
     */
    boolean startSyncing(BooleanSupplier stopped) throws InterruptedException {
        long waitingSince = System.nanoTime();
        while (!source.awaitSynced(Duration.ofSeconds(1))) {
            if (stopped.getAsBoolean()) {
                return false;
            }
            long seconds = Duration.ofNanos(System.nanoTime() - waitingSince).toSeconds();
            if (seconds > 0 && seconds % 10 == 0) {
                log.info("waiting for the initial state of Services, EndpointSlices and the Node ({} s so far)", seconds);
            }
        }
        // as upstream's sync loop does at its start: a loop whose syncs never succeed turns unhealthy
        backends.forEach(b -> health.updated(proxier(b)));
        runner.start();
        return true;
    }

    /** Waits at most {@code timeout} for the source's initial state. */
    boolean awaitSourceSynced(Duration timeout) throws InterruptedException {
        return source.awaitSynced(timeout);
    }

    /** One sync of every backend; true when all worked. Never throws ({@link SyncGuard}). */
    boolean syncOnce() {
        return SyncGuard.run("sync", this::syncAll);
    }

    private boolean syncAll() {
        ProxySnapshot snapshot = tracker.snapshot();
        boolean allOk = true;
        for (int i = 0; i < backends.size(); i++) {
            FamilyBackend b = backends.get(i);
            SyncResult r = SyncGuard.sync(b.label(), b.backend(), snapshot);
            allOk &= r.ok();
            String kind = r.full() ? "full" : "partial";
            consecutiveFailures[i] = r.ok() ? 0 : consecutiveFailures[i] + 1;
            if (r.applyFailed()) {
                applyFailures[i]++;
            }
            if (r.ok()) {
                health.updated(proxier(b));
                ConntrackReconciler ct = conntrack;
                if (ct != null) {
                    long deletedBefore = ct.deletedEntries(b.family());
                    ct.reconcile(b.family(), snapshot); // never throws
                    recordMetrics(b, () -> metrics.conntrackReconciled(b.family(), ct.lastDuration(b.family()),
                            ct.deletedEntries(b.family()) - deletedBefore));
                }
            }
            // after the conntrack run, as upstream's sync ends with it: a scrape that shows this sync shows that too
            recordMetrics(b, () -> metrics.synced(b.family(), r, snapshot));
            if (r.ok()) {
                // figures as key-values (as upstream's "SyncProxyRules complete" line), so that
                // --logging-format=json carries them as fields and text ends with rules="67" durationMs="9" ...
                log.atInfo().addKeyValue("rules", r.rulesWritten()).addKeyValue("durationMs", r.duration().toMillis())
                        .addKeyValue("servicePorts", snapshot.servicePortMap().size())
                        .addKeyValue("generation", snapshot.generation())
                        .log("{} {} sync complete", b.label(), kind);
            } else {
                log.error("{} {} sync failed after {} ms: {}; rules left as they were, retrying "
                                + "(consecutive failures: {}, apply failures so far: {})", b.label(), kind,
                        r.duration().toMillis(), r.error(), consecutiveFailures[i], applyFailures[i]);
            }
        }
        ServiceHealthServers servers = healthChecks;
        if (allOk && servers != null) {
            servers.sync(snapshot); // never throws
        }
        return allOk;
    }

    private void changed() {
        for (FamilyBackend b : backends) {
            health.queued(proxier(b));
            metrics.queued(b.family());
        }
        runner.request();
    }

    /** A backend's name in the health report: its IP family, as upstream's proxiers are named. */
    private static String proxier(FamilyBackend b) {
        return b.family().label();
    }

    /** Metrics never fail a sync: an exception there is logged, and the sync goes on. */
    private static void recordMetrics(FamilyBackend b, Runnable update) {
        try {
            update.run();
        } catch (RuntimeException e) {
            log.warn("{}: recording the sync's metrics failed", b.label(), e);
        }
    }

    @Override
    public void close() {
        synchronized (httpServers) {
            closed = true;
            if (httpRetry != null) {
                httpRetry.shutdownNow();
            }
        }
        for (AutoCloseable server : httpServers) {
            try {
                server.close();
            } catch (Exception e) {
                log.warn("closing an HTTP server failed: {}", e.toString());
            }
        }
        source.close();
        scheduler.close();
        ServiceHealthServers servers = healthChecks;
        if (servers != null) {
            servers.close();
        }
        ConntrackReconciler ct = conntrack;
        if (ct != null) {
            ct.close();
        }
        runtime.close();
    }
}
