package dev.ferry.proxy.source;

import dev.ferry.proxy.metrics.ApiRequestMetrics;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds the API client the way upstream's flags ask: --kubeconfig names a kubeconfig file;
 * --master overrides the server address in it (or, alone, is the server, without credentials);
 * without either, fabric8's auto-configuration applies (in-cluster service account, else
 * $KUBECONFIG or ~/.kube/config). A kubeconfig user's tokenFile is honoured (fabric8 ignores it).
 * Every request is counted and timed for /metrics ({@link ApiRequestMetrics}).
 */
public final class ApiClients {

    private ApiClients() {
    }

    /** @throws IllegalArgumentException naming the flag when the kubeconfig cannot be used */
    public static KubernetesClient connect(Path kubeconfig, String master) {
        Config config;
        if (kubeconfig != null) {
            if (!Files.isReadable(kubeconfig)) {
                throw new IllegalArgumentException("--kubeconfig: cannot read " + kubeconfig);
            }
            try {
                config = Config.fromKubeconfig(kubeconfig.toFile());
                useTokenFile(config, kubeconfig);
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
        return new KubernetesClientBuilder().withConfig(config)
                .withHttpClientBuilderConsumer(http -> http.addOrReplaceInterceptor("ferry-metrics", ApiRequestMetrics.shared()))
                .build();
    }

    /**
     * A user's {@code tokenFile} (kubeadm's kube-proxy kubeconfig.conf names the pod's service-account
     * token this way), which fabric8 does not read: the file is read for every request, because the
     * kubelet replaces a projected token before it expires. Only when the user has no other credentials.
     */
    private static void useTokenFile(Config config, Path kubeconfig) {
        if (config.getOauthToken() != null || config.getAutoOAuthToken() != null || config.getOauthTokenProvider() != null
                || config.getClientCertFile() != null || config.getClientCertData() != null || config.getUsername() != null) {
            return;
        }
        io.fabric8.kubernetes.api.model.Config file = io.fabric8.kubernetes.client.internal.KubeConfigUtils
                .parseConfig(kubeconfig.toFile());
        String context = file.getCurrentContext();
        String user = file.getContexts() == null ? null : file.getContexts().stream()
                .filter(c -> c.getName().equals(context) && c.getContext() != null)
                .map(c -> c.getContext().getUser()).findFirst().orElse(null);
        String tokenFile = file.getUsers() == null ? null : file.getUsers().stream()
                .filter(u -> u.getName().equals(user) && u.getUser() != null)
                .map(u -> u.getUser().getTokenFile()).findFirst().orElse(null);
        if (tokenFile == null || tokenFile.isEmpty()) {
            return;
        }
        Path parent = kubeconfig.toAbsolutePath().getParent();
        Path token = parent == null ? Path.of(tokenFile) : parent.resolve(tokenFile); // relative: to the kubeconfig, as kubectl
        config.setOauthTokenProvider(() -> {
            try {
                return Files.readString(token).strip();
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot read the token file " + token + " named in " + kubeconfig, e);
            }
        });
    }
}
