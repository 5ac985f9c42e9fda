package dev.ferry.proxy.source;

import dev.ferry.proxy.metrics.ApiRequestMetrics;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds the API client the way upstream's flags ask: --kubeconfig names a kubeconfig file;
 * --master overrides the server address in it (or, alone, is the server, without credentials);
 * without either, fabric8's auto-configuration applies (in-cluster service account, else
 * $KUBECONFIG or ~/.kube/config). A kubeconfig user's tokenFile is honoured (fabric8 ignores it).
 *
 * <p>With none of these there is no API server to ask: upstream then fails at once (its
 * in-cluster configuration needs KUBERNETES_SERVICE_HOST), and so does this, saying what to
 * pass, rather than retrying fabric8's fallback {@code https://kubernetes.default.svc}.
 *
 * <p>Requests are not retried inside the client: an informer whose list fails retries it with
 * its own backoff (1 s doubling to 32 s), as upstream's reflector does, so each attempt shows
 * up in the log when it fails, not after fabric8's ten silent retries (about 20 s). Every
 * request is counted and timed for /metrics ({@link ApiRequestMetrics}).
 */
public final class ApiClients {

    private ApiClients() {
    }

    static final String NOT_CONFIGURED = "no API server to watch: pass --kubeconfig FILE or --master URL"
            + " (or clientConnection.kubeconfig in the --config file), run in a pod (KUBERNETES_SERVICE_HOST),"
            + " or read objects from files with --manifests DIR";

    /**
     * @throws IllegalArgumentException naming the flag when the kubeconfig cannot be used, or
     *                                  {@link #NOT_CONFIGURED} when nothing names an API server
     */
    public static KubernetesClient connect(Path kubeconfig, String master) {
        return connect(kubeconfig, master, System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** {@link #connect(Path, String)} in this environment, with this home directory. */
    static KubernetesClient connect(Path kubeconfig, String master, Map<String, String> env, Path home) {
        if (kubeconfig == null && (master == null || master.isEmpty()) && !autoConfigurable(env, home)) {
            throw new IllegalArgumentException(NOT_CONFIGURED);
        }
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
        config.setRequestRetryBackoffLimit(0);
        return new KubernetesClientBuilder().withConfig(config)
                .withHttpClientBuilderConsumer(http -> http.addOrReplaceInterceptor("ferry-metrics", ApiRequestMetrics.shared()))
                .build();
    }

    /** Whether fabric8's auto-configuration finds an API server: in a pod, or a kubeconfig file. */
    static boolean autoConfigurable(Map<String, String> env, Path home) {
        String host = env.get("KUBERNETES_SERVICE_HOST");
        if (host != null && !host.isEmpty()) {
            return true;
        }
        String files = env.get("KUBECONFIG");
        if (files != null && !files.isEmpty()) {
            for (String file : files.split(File.pathSeparator)) {
                if (!file.isEmpty() && Files.isRegularFile(Path.of(file))) {
                    return true;
                }
            }
            return false; // fabric8 reads only $KUBECONFIG then
        }
        return Files.isRegularFile(home.resolve(".kube").resolve("config"));
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
