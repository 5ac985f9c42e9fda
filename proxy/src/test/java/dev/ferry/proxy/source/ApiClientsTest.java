package dev.ferry.proxy.source;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the API server comes from when no flag names it, and what happens when nothing does. */
class ApiClientsTest {

    @TempDir
    Path home;

    @Test
    void inAPodOrWithAKubeconfigFileThereIsAnApiServer() throws Exception {
        assertFalse(ApiClients.autoConfigurable(Map.of(), home));
        assertTrue(ApiClients.autoConfigurable(Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1"), home));
        Path other = Files.writeString(home.resolve("other.conf"), "apiVersion: v1\nkind: Config\n");
        assertTrue(ApiClients.autoConfigurable(Map.of("KUBECONFIG", home.resolve("nope") + ":" + other), home));
        Files.createDirectories(home.resolve(".kube"));
        Files.writeString(home.resolve(".kube/config"), "apiVersion: v1\nkind: Config\n");
        assertTrue(ApiClients.autoConfigurable(Map.of(), home));
        assertFalse(ApiClients.autoConfigurable(Map.of("KUBECONFIG", home.resolve("nope").toString()), home),
                "with $KUBECONFIG set, fabric8 reads only what it names");
    }

    @Test
    void withNothingConfiguredConnectSaysWhatToPass() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ApiClients.connect(null, null, Map.of(), home));
        assertEquals(ApiClients.NOT_CONFIGURED, e.getMessage());
        try (KubernetesClient client = ApiClients.connect(null, "http://127.0.0.1:1", Map.of(), home)) {
            assertEquals("http://127.0.0.1:1/", client.getMasterUrl().toString());
            assertEquals(0, client.getConfiguration().getRequestRetryBackoffLimit(), "the informers retry, not each request");
        }
    }
}
