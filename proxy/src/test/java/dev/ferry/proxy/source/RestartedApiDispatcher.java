package dev.ferry.proxy.source;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A restarted API server as a real one behaves: it cannot resume a watch from a
 * resourceVersion of its past (an ERROR event with status 410, "too old resource version") until the client has
 * listed again. The plain CRUD mock would instead replay its objects as ADDED and never
 * tell of objects deleted meanwhile. Use it for the server that comes back after a stop:
 * {@code new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new RestartedApiDispatcher(), false)}.
 * It answers watches over WebSocket, which is how fabric8 7 watches.
 */
public final class RestartedApiDispatcher extends KubernetesCrudDispatcher {
    private final Set<String> listed = ConcurrentHashMap.newKeySet();

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        String path = request.getPath();
        if ("GET".equalsIgnoreCase(request.getMethod())) {
            String resource = path.split("\\?")[0];
            if (!path.contains("watch=true")) {
                listed.add(resource);
            } else if (path.contains("resourceVersion=") && !listed.contains(resource)) {
                // What a real API server does: accept the watch, then send an ERROR event.
                return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                    @Override
                    public void onOpen(WebSocket ws, Response response) {
                        ws.send("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                                + "\"status\":\"Failure\",\"reason\":\"Expired\",\"code\":410,"
                                + "\"message\":\"too old resource version\"}}");
                    }
                });
            }
        }
        return super.dispatch(request);
    }
}
