package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What every end-to-end test starts from, as a JUnit 5 extension: root checked (else skipped),
 * a fresh {@link Topology}, this node's Node object published to the source (a manifests directory
 * or the mock API server), {@link Checks} that always read the current proxy, and everything
 * removed after each test. Register it as an instance field:
 *
 * <pre>
 *   &#64;RegisterExtension
 *   final NodeFixture fx = NodeFixture.files(3);
 * </pre>
 *
 * <p>Single-threaded: JUnit calls the callbacks and the test on the same thread.
 */
final class NodeFixture implements BeforeEachCallback, AfterEachCallback {
    /** The ClusterIP of the "web" Service {@link #web} publishes. */
    static final String WEB_IP = "10.96.0.10";

    /** Where the proxy reads Services, EndpointSlices and its Node from. */
    enum Source { FILES, API }

    private final Source source;
    private final int backendCount;
    private final boolean ipv6;

    private Topology topology;
    private ManifestDir dir;
    private MockApi api;
    private Checks checks;
    private Proc proxy;

    private NodeFixture(Source source, int backendCount, boolean ipv6) {
        this.source = source;
        this.backendCount = backendCount;
        this.ipv6 = ipv6;
    }

    /** Backends b1…bN, the proxy reading a manifests directory. */
    static NodeFixture files(int backendCount) {
        return new NodeFixture(Source.FILES, backendCount, false);
    }

    /** Backends b1…bN, the proxy watching fabric8's mock API server. */
    static NodeFixture api(int backendCount) {
        return new NodeFixture(Source.API, backendCount, false);
    }

    /**
     * The same with IPv6 on every link ({@link Topology#create(int, boolean)}) and the proxy given
     * both cluster CIDRs, so that it runs an IPv6 backend next to the IPv4 one.
     */
    NodeFixture dualStack() {
        return new NodeFixture(source, backendCount, true);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Privileged.assumeRootWithTools();
        topology = Topology.create(backendCount, ipv6);
        checks = new Checks(topology, () -> proxy);
        if (source == Source.FILES) {
            dir = new ManifestDir(topology); // writes node.yaml
        } else {
            api = new MockApi(topology);
            api.apply(Manifests.node(ProxyProcess.NODE_NAME));
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        // the proxy first (the topology tracks and kills it), then the API server it talks to
        if (topology != null) {
            topology.close();
        }
        if (dir != null) {
            dir.close();
        }
        if (api != null) {
            api.close();
        }
        topology = null;
        dir = null;
        api = null;
        proxy = null;
    }

    Topology topology() {
        return topology;
    }

    NetNs node() {
        return topology.node();
    }

    NetNs pod() {
        return topology.pod();
    }

    NetNs ext() {
        return topology.ext();
    }

    Checks checks() {
        return checks;
    }

    /** The proxy started last, or null. */
    Proc proxy() {
        return proxy;
    }

    /** The manifests directory (file source only). */
    ManifestDir dir() {
        if (dir == null) {
            throw new IllegalStateException("not a file-source fixture");
        }
        return dir;
    }

    Manifests manifests() {
        return dir().manifests();
    }

    /** The mock API server (API source only). */
    MockApi api() {
        if (api == null) {
            throw new IllegalStateException("not an API-source fixture");
        }
        return api;
    }

    /** The flags for this fixture's source, the harness's common flags, then {@code extra}. */
    List<String> proxyArgs(String... extra) {
        List<String> args = new ArrayList<>(source == Source.FILES
                ? ProxyProcess.fileArgs(dir.path())
                : ProxyProcess.apiArgs(api.kubeconfig()));
        if (ipv6) {
            int i = args.indexOf("--cluster-cidr");
            args.set(i + 1, Topology.CLUSTER_CIDR + "," + Topology.CLUSTER_CIDR_V6);
        }
        args.addAll(List.of(extra));
        return args;
    }

    /** Starts the daemon in the node namespace; it becomes {@link #proxy()} (the checks follow it). */
    Proc startProxy(String... extra) {
        proxy = ProxyProcess.start(topology, topology.node(), proxyArgs(extra));
        return proxy;
    }

    /**
     * Publishes objects to the source: {@code yaml} (one object, or several separated by
     * {@code ---}) into file {@code name}.yaml, or each object applied to the API server.
     */
    void publish(String name, String yaml) {
        Objects.requireNonNull(yaml, "yaml");
        if (source == Source.FILES) {
            dir.manifests().write(name + ".yaml", yaml);
        } else {
            for (String doc : yaml.split("(?m)^---\\n")) {
                if (!doc.isBlank()) {
                    api.apply(doc);
                }
            }
        }
    }

    /**
     * The "web" Service at {@link #WEB_IP} with {@link Manifests#ALL_PORTS}, served by
     * {@code backends} (none: a Service without endpoints), as a Service file and a slice file
     * (or two API objects).
     */
    void web(String... backends) {
        publish("web-service", Manifests.service("web", WEB_IP, Manifests.ALL_PORTS));
        publish("web-slice", Manifests.slice("web", "web-1", Manifests.ALL_PORTS, Manifests.ips(backends)));
    }

    /** The manifests directory's path (file source only), e.g. for a reference {@code --once} run. */
    Path manifestsPath() {
        return dir().path();
    }
}
