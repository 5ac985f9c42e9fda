package dev.ferry.proxy;

/** The kubeconfig kubeadm writes for kube-proxy (kubeconfig.conf), for tests against a mock API server. */
public final class Kubeconfigs {

    private Kubeconfigs() {
    }

    /**
     * kubeadm's kubeconfig.conf shape: one cluster, context and user, all named "default".
     *
     * @param server the API server's URL, no trailing slash
     * @param user   the user's one line of credentials, e.g. {@code tokenFile: token}
     */
    public static String kubeadm(String server, String user) {
        return """
                apiVersion: v1
                kind: Config
                clusters:
                - cluster:
                    server: %s
                  name: default
                contexts:
                - context:
                    cluster: default
                    namespace: default
                    user: default
                  name: default
                current-context: default
                users:
                - name: default
                  user:
                    %s
                """.formatted(server, user);
    }
}
