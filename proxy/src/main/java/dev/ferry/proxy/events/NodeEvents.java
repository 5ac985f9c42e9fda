package dev.ferry.proxy.events;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Events about this node, recorded as upstream kube-proxy records them so that
 * {@code kubectl describe node} and event-based alerts see the same thing: reporting controller
 * "kube-proxy", instance "kube-proxy-NODE", action "StartKubeProxy", regarding the Node (kind
 * Node, its name, its uid when the API gives it, else the name, as upstream and the kubelet do),
 * in namespace "default" (where events about cluster-scoped objects go).
 *
 * <p>events.k8s.io/v1 first; an API server without it (404) gets a core v1 Event instead.
 *
 * <p>Threads and failures: {@link #recordStarting()} blocks on the API calls;
 * {@link #recordStartingInBackground()} runs it on a daemon thread of its own. An event is
 * informational: every failure is logged at warn and swallowed, never fatal.
 */
public final class NodeEvents {

    private static final Logger log = LoggerFactory.getLogger(NodeEvents.class);

    static final String NAMESPACE = "default";
    static final String CONTROLLER = "kube-proxy";
    static final String STARTING_ACTION = "StartKubeProxy";
    static final String STARTING_REASON = "Starting";
    static final String STARTING_NOTE = "Starting kube-proxy.";

    private static final DateTimeFormatter MICRO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX")
            .withZone(ZoneOffset.UTC);

    private final KubernetesClient client;
    private final String nodeName;
    private final Clock clock;

    public NodeEvents(KubernetesClient client, String nodeName) {
        this(client, nodeName, Clock.systemUTC());
    }

    NodeEvents(KubernetesClient client, String nodeName, Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        if (nodeName == null || nodeName.isEmpty()) {
            throw new IllegalArgumentException("empty node name");
        }
        this.nodeName = nodeName;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Upstream's "birth cry": a Normal "Starting" event on the Node. True when the API server took it. */
    public boolean recordStarting() {
        return record("Normal", STARTING_REASON, STARTING_ACTION, STARTING_NOTE);
    }

    /**
     * A Warning event on the Node with upstream's action, e.g. reason "FailedToStartProxierHealthcheck"
     * or "FailedToStartMetricServer" with the error as note. True when the API server took it.
     */
    public boolean recordWarning(String reason, String note) {
        return record("Warning", Objects.requireNonNull(reason, "reason"), STARTING_ACTION, Objects.requireNonNull(note, "note"));
    }

    /** {@link #recordStarting()} on a daemon thread, so that a slow API server never holds up the proxy. */
    public CompletableFuture<Boolean> recordStartingInBackground() {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        Thread t = new Thread(() -> done.complete(recordStarting()), "node-events");
        t.setDaemon(true);
        t.start();
        return done;
    }

    boolean record(String type, String reason, String action, String note) {
        try {
            ObjectReference node = nodeReference();
            Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
            // upstream's event name: the object's name, a dot, the time in nanoseconds as hex
            String name = nodeName + "." + Long.toHexString(now.getEpochSecond() * 1_000_000_000L + now.getNano());
            try {
                client.events().v1().events().inNamespace(NAMESPACE).resource(
                        new io.fabric8.kubernetes.api.model.events.v1.EventBuilder()
                                .withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
                                .withEventTime(new MicroTime(MICRO_TIME.format(now)))
                                .withReportingController(CONTROLLER)
                                .withReportingInstance(CONTROLLER + "-" + nodeName)
                                .withAction(action).withReason(reason).withNote(note).withType(type)
                                .withRegarding(node)
                                .build()).create();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 404) {
                    throw e;
                }
                log.debug("events.k8s.io/v1 is not served; recording a core v1 Event");
                String time = DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(ChronoUnit.SECONDS));
                client.v1().events().inNamespace(NAMESPACE).resource(new EventBuilder()
                        .withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
                        .withInvolvedObject(node)
                        .withReason(reason).withMessage(note).withType(type).withAction(action)
                        .withNewSource().withComponent(CONTROLLER).withHost(nodeName).endSource()
                        .withReportingComponent(CONTROLLER).withReportingInstance(CONTROLLER + "-" + nodeName)
                        .withFirstTimestamp(time).withLastTimestamp(time).withCount(1)
                        .build()).create();
            }
            log.debug("recorded event {} {} on Node {}", type, reason, nodeName);
            return true;
        } catch (RuntimeException e) {
            log.warn("could not record the {} event on Node {}: {}", reason, nodeName, e.getMessage());
            return false;
        }
    }

    /**
     * The Node with its uid when a list by name finds it (our role may list Nodes, not get
     * them); else with the name as uid, which is what upstream always puts there.
     */
    private ObjectReference nodeReference() {
        String uid = nodeName;
        try {
            List<Node> found = client.nodes().withField("metadata.name", nodeName).list().getItems();
            if (!found.isEmpty() && found.get(0).getMetadata().getUid() != null) {
                uid = found.get(0).getMetadata().getUid();
            }
        } catch (RuntimeException e) {
            log.debug("listing Node {} for its uid failed ({}); using its name", nodeName, e.getMessage());
        }
        return new ObjectReferenceBuilder().withApiVersion("v1").withKind("Node").withName(nodeName).withUid(uid).build();
    }
}
