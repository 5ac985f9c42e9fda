package dev.ferry.proxy.events;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeListBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Starting event against fabric8's mock API server (CRUD mode, or scripted for the fallbacks). */
class NodeEventsTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-23T09:30:00.123456789Z"), ZoneOffset.UTC);

    private KubernetesMockServer server;
    private KubernetesClient client;

    private void start(boolean crud) {
        server = crud
                ? new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false)
                : new KubernetesMockServer(false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        client = server.createClient();
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.destroy();
        }
    }

    @Test
    void startingIsRecordedOnTheNodeAsUpstreamRecordsIt() {
        start(true);
        String uid = client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-1").endMetadata()
                .build()).create().getMetadata().getUid();
        assertTrue(new NodeEvents(client, "node-1", CLOCK).recordStarting());

        List<Event> events = client.events().v1().events().inNamespace("default").list().getItems();
        assertEquals(1, events.size(), events.toString());
        Event e = events.get(0);
        assertEquals("Normal", e.getType());
        assertEquals("Starting", e.getReason());
        assertEquals("StartKubeProxy", e.getAction());
        assertEquals("Starting kube-proxy.", e.getNote());
        assertEquals("kube-proxy", e.getReportingController());
        assertEquals("kube-proxy-node-1", e.getReportingInstance());
        assertEquals("Node", e.getRegarding().getKind());
        assertEquals("node-1", e.getRegarding().getName());
        assertEquals(uid, e.getRegarding().getUid(), "the Node's uid when the API gives it");
        assertEquals("2026-11-23T09:30:00.123456Z", e.getEventTime().getTime());
        assertEquals("node-1." + Long.toHexString(1795426200_123456000L), e.getMetadata().getName(),
                "upstream's name: node, dot, event time in nanoseconds as hex");
    }

    @Test
    void warningsTooAsUpstreamsHealthAndMetricsServersRecordThem() {
        start(true);
        assertTrue(new NodeEvents(client, "node-1", CLOCK).recordWarning("FailedToStartProxierHealthcheck",
                "failed to start proxier healthz on 0.0.0.0:10256: address in use"));
        Event e = client.events().v1().events().inNamespace("default").list().getItems().get(0);
        assertEquals("Warning", e.getType());
        assertEquals("FailedToStartProxierHealthcheck", e.getReason());
        assertEquals("StartKubeProxy", e.getAction());
        assertTrue(e.getNote().contains("address in use"));
    }

    @Test
    void withoutTheNodeTheUidIsItsNameAsUpstreams() {
        start(true);
        assertTrue(new NodeEvents(client, "node-2", CLOCK).recordStarting());
        Event e = client.events().v1().events().inNamespace("default").list().getItems().get(0);
        assertEquals("node-2", e.getRegarding().getUid());
    }

    @Test
    void aServerWithoutEventsK8sIoGetsACoreEvent() throws Exception {
        start(false);
        Node node = new NodeBuilder().withNewMetadata().withName("node-3").withUid("uid-3").endMetadata().build();
        server.expect().get().withPath("/api/v1/nodes?fieldSelector=metadata.name%3Dnode-3")
                .andReturn(200, new NodeListBuilder().withItems(node).build()).once();
        // events.k8s.io is not expected: the scripted server answers 404, as an API server without the group
        server.expect().post().withPath("/api/v1/namespaces/default/events").andReturn(201, "{}").once();

        assertTrue(new NodeEvents(client, "node-3", CLOCK).recordStarting());

        RecordedRequest core = null;
        for (int i = 0; i < 3; i++) {
            RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
            assertNotNull(r, "three requests: list the Node, events.k8s.io, core");
            if (r.getPath().equals("/api/v1/namespaces/default/events")) {
                core = r;
            }
        }
        assertNotNull(core);
        io.fabric8.kubernetes.api.model.Event e = client.getKubernetesSerialization()
                .unmarshal(core.getUtf8Body(), io.fabric8.kubernetes.api.model.Event.class);
        assertEquals("Starting", e.getReason());
        assertEquals("Normal", e.getType());
        assertEquals("Starting kube-proxy.", e.getMessage());
        assertEquals("kube-proxy", e.getSource().getComponent());
        assertEquals("node-3", e.getSource().getHost());
        assertEquals("Node", e.getInvolvedObject().getKind());
        assertEquals("node-3", e.getInvolvedObject().getName());
        assertEquals("uid-3", e.getInvolvedObject().getUid());
        assertEquals("2026-11-23T09:30:00Z", e.getFirstTimestamp());
        assertEquals(1, e.getCount());
    }

    @Test
    void aRefusingServerIsLoggedNeverThrown() {
        start(false);
        server.expect().post().withPath("/apis/events.k8s.io/v1/namespaces/default/events")
                .andReturn(403, "{\"kind\":\"Status\",\"message\":\"forbidden\"}").always();
        assertFalse(new NodeEvents(client, "node-4", CLOCK).recordStarting());
    }

    @Test
    void anUnreachableServerIsLoggedNeverThrownAndNeverBlocksTheCaller() throws Exception {
        // nothing listens on port 1; no retries, so that the test does not wait out fabric8's backoff
        client = new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl("http://127.0.0.1:1")
                .withRequestRetryBackoffLimit(0).build()).build();
        var result = new NodeEvents(client, "node-5", CLOCK).recordStartingInBackground();
        assertFalse(result.get(60, TimeUnit.SECONDS));
    }
}
