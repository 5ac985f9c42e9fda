package dev.ferry.proxy;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds the API client the way upstream's flags ask: --kubeconfig names a kubeconfig file;
 * --master overrides the server address in it (or, alone, is the server, without credentials);
 * without either, fabric8's auto-configuration applies (in-cluster service account, else
 * $KUBECONFIG or ~/.kube/config).
 */
final class ApiClients {

    private ApiClients() {
    }

    /** @throws IllegalArgumentException naming the flag when the kubeconfig cannot be used */
    static KubernetesClient connect(Path kubeconfig, String master) {
        Config config;
        if (kubeconfig != null) {
            if (!Files.isReadable(kubeconfig)) {
                throw new IllegalArgumentException("--kubeconfig: cannot read " + kubeconfig);
            }
            try {
                config = Config.fromKubeconfig(kubeconfig.toFile());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("--kubeconfig: " + kubeconfig + " is not a usable kubeconfig: "
                        + e.getMessage(), e);
            }
        } else {
            config = Config.autoConfigure(null);
        }
        if (master != null && !master.isEmpty()) {
            config.setMasterUrl(master);
        }
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
