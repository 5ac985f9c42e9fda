package dev.ferry.proxy.source;

import dev.ferry.proxy.Kubeconfigs;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.DefaultMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * kubeadm's kube-proxy ConfigMap carries a kubeconfig.conf whose user authenticates with
 * {@code tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}; with --config or
 * --kubeconfig pointing at it, requests must carry that token, re-read as the kubelet rotates it.
 */
class ApiClientsTokenFileTest {

    @Test
    void sendsTheTokenFilesCurrentContent(@TempDir Path dir) throws Exception {
        DefaultMockServer server = new DefaultMockServer();
        server.start();
        try {
            server.expect().get().withPath("/api/v1/namespaces/default/services").andReturn(200,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ServiceList\",\"items\":[]}").always();
            Path token = Files.writeString(dir.resolve("token"), "first-token\n");
            Path kubeconfig = Files.writeString(dir.resolve("kubeconfig.conf"),
                    Kubeconfigs.kubeadm(server.url("/").replaceAll("/$", ""), "tokenFile: token"));
            try (KubernetesClient client = ApiClients.connect(kubeconfig, null)) {
                client.services().inNamespace("default").list();
                assertEquals("Bearer first-token", authorization(server));
                Files.writeString(token, "rotated-token");
                client.services().inNamespace("default").list();
                assertEquals("Bearer rotated-token", authorization(server));
            }
        } finally {
            server.shutdown();
        }
    }

    private static String authorization(DefaultMockServer server) throws InterruptedException {
        RecordedRequest r = server.takeRequest(10, TimeUnit.SECONDS);
        assertNotNull(r, "no request reached the server");
        return r.getHeader("Authorization");
    }
}
