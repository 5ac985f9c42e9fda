package dev.ferry.proxy.source;

import dev.ferry.core.ChangeTracker;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * The API server source: fabric8 informers for v1 Services and discovery.k8s.io/v1
 * EndpointSlices in every namespace, and for this node's Node, whose events go straight to the
 * tracker.
 *
 * <p>Like upstream, Services and EndpointSlices are listed with the label selector
 * {@value #LABEL_SELECTOR}: objects of another service proxy, and the slices of headless
 * Services, never reach us (the core would skip them anyway). The Node is watched by the field
 * selector metadata.name=hostname.
 *
 * <p>Threads: fabric8 calls the handlers on its informer threads, one event at a time per
 * informer. Failures: a failed list or a broken watch is retried by fabric8 with backoff for
 * as long as the source runs (our exception handler says always retry), so the informers
 * survive the API server going away; meanwhile the tracker keeps what it was told and the
 * rules stay in place.
 */
public final class ApiSource implements Source {

    private static final Logger log = LoggerFactory.getLogger(ApiSource.class);

    static final String LABEL_SELECTOR = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";

    private final KubernetesClient client;
    private final ChangeTracker tracker;
    private final long resyncMillis;
    private final List<Watched<?>> watched = new ArrayList<>();

    /** @param client owned from now on: {@link #close()} closes it */
    public ApiSource(KubernetesClient client, ChangeTracker tracker) {
        this(client, tracker, Duration.ZERO);
    }

    /**
     * @param resync how often the informers hand every object they hold to the tracker again
     *               (--config-sync-period; the tracker drops them as no-ops); zero: never
     */
    public ApiSource(KubernetesClient client, ChangeTracker tracker, Duration resync) {
        this.client = Objects.requireNonNull(client, "client");
        this.tracker = Objects.requireNonNull(tracker, "tracker");
        this.resyncMillis = resync.toMillis();
    }

    @Override
    public synchronized void start() {
        if (!watched.isEmpty()) {
            return;
        }
        log.info("watching Services and EndpointSlices at {} and Node {}", client.getMasterUrl(), tracker.hostname());
        add("Services", client.services().inAnyNamespace().withLabelSelector(LABEL_SELECTOR).runnableInformer(resyncMillis),
                tracker::updateService);
        add("EndpointSlices", client.discovery().v1().endpointSlices().inAnyNamespace()
                .withLabelSelector(LABEL_SELECTOR).runnableInformer(resyncMillis), tracker::updateEndpointSlice);
        add("Node " + tracker.hostname(), client.nodes().withField("metadata.name", tracker.hostname()).runnableInformer(resyncMillis),
                (Node previous, Node current) -> {
                    if (current != null) {
                        tracker.updateNode(current); // a deleted Node keeps its last labels, as upstream
                    }
                });
    }

    private <T extends HasMetadata> void add(String what, SharedIndexInformer<T> informer, BiConsumer<T, T> update) {
        Watched<T> w = new Watched<>(what, informer, update);
        informer.addEventHandler(w);
        informer.exceptionHandler((isStarted, t) -> {
            // one line per attempt, as upstream's reflector logs; the stack only at -v=4 and more
            if (log.isTraceEnabled()) {
                log.warn("watching {} at {} failed: {}; retrying", what, client.getMasterUrl(), reason(t), t);
            } else {
                log.warn("watching {} at {} failed: {}; retrying", what, client.getMasterUrl(), reason(t));
            }
            return true;
        });
        w.listed = informer.start().toCompletableFuture();
        watched.add(w);
    }

    /**
     * What went wrong, without the wrappers: the API server's answer (e.g. 403 and its message),
     * else the network's error ("ConnectException: Connection refused"): the deepest java.net one
     * (the JDK's HTTP client wraps a message-less ClosedChannelException in it), else the bottom cause.
     */
    static String reason(Throwable t) {
        Throwable cause = t;
        Throwable network = null;
        while (true) {
            if (cause instanceof KubernetesClientException k && k.getCode() > 0) {
                break; // the server answered: its status and message say it best
            }
            String pkg = cause.getClass().getPackageName();
            if (pkg.equals("java.net") || pkg.equals("java.net.http")) {
                network = cause;
            }
            if (cause.getCause() == null || cause.getCause() == cause) {
                break;
            }
            cause = cause.getCause();
        }
        if (network != null && !(cause instanceof KubernetesClientException)) {
            cause = network;
        }
        String message = cause.getMessage() == null ? "" : ": " + cause.getMessage().strip().replace('\n', ' ');
        return cause.getClass().getSimpleName() + message;
    }

    /**
     * Synced means: every informer has listed once, and every object of that list has reached
     * the tracker. fabric8 completes start() when its store is filled but hands the events to
     * handlers asynchronously, so the second half is checked by key.
     */
    @Override
    public boolean awaitSynced(Duration timeout) throws InterruptedException {
        List<Watched<?>> all;
        synchronized (this) {
            if (watched.isEmpty()) {
                throw new IllegalStateException("not started");
            }
            all = List.copyOf(watched);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Watched<?> w : all) {
            if (!w.awaitDelivered(deadline)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public synchronized void close() {
        for (Watched<?> w : watched) {
            w.informer.stop();
        }
        client.close();
    }

    /**
     * One informer and its handler, which adapts fabric8's add/update/delete callbacks to the
     * tracker's (previous, current) calls and remembers which objects it has passed on.
     */
    private static final class Watched<T extends HasMetadata> implements ResourceEventHandler<T> {
        private final String what;
        private final SharedIndexInformer<T> informer;
        private final BiConsumer<T, T> update;
        private final Set<String> delivered = ConcurrentHashMap.newKeySet();
        private volatile CompletableFuture<Void> listed;
        private volatile Set<String> initialKeys;

        Watched(String what, SharedIndexInformer<T> informer, BiConsumer<T, T> update) {
            this.what = what;
            this.informer = informer;
            this.update = update;
        }

        @Override
        public void onAdd(T obj) {
            update.accept(null, obj);
            delivered.add(key(obj));
        }

        @Override
        public void onUpdate(T oldObj, T newObj) {
            update.accept(oldObj, newObj);
            delivered.add(key(newObj));
        }

        @Override
        public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            update.accept(obj, null);
        }

        boolean awaitDelivered(long deadline) throws InterruptedException {
            try {
                listed.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                return false;
            } catch (ExecutionException e) {
                // Cannot happen while the exception handler retries; a stopped informer ends here.
                log.error("{}: the informer stopped before its initial list: {}", what, e.getCause().toString());
                return false;
            }
            if (initialKeys == null) {
                initialKeys = Set.copyOf(informer.getStore().listKeys());
            }
            while (!delivered.containsAll(initialKeys)) {
                if (System.nanoTime() >= deadline) {
                    return false;
                }
                Thread.sleep(10); // polling with a deadline: fabric8 offers no "handler caught up" signal
            }
            return true;
        }

        private static String key(HasMetadata obj) {
            return obj.getMetadata().getNamespace() == null
                    ? obj.getMetadata().getName()
                    : obj.getMetadata().getNamespace() + "/" + obj.getMetadata().getName();
        }
    }
}
