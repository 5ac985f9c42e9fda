package dev.ferry.bench.forward;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts the backends and each forwarding path as its own process (pinned like the others of its
 * role), and waits until each answers: an HTTP 200 through the HTTP front, a LISTEN socket on the
 * bulk front (no probe connection reaches the iperf3 server). Runner thread only.
 */
final class Paths {

    private static final Duration READY = Duration.ofSeconds(60);

    private final Procs procs;
    private final Path dir;
    private final String proxyCpus;
    private final Path proxyJar;

    Paths(Procs procs, Path dir, String proxyCpus, Path proxyJar) {
        this.procs = procs;
        this.dir = dir;
        this.proxyCpus = proxyCpus;
        this.proxyJar = proxyJar;
    }

    /** The HTTP backend on two ports (one process) and one iperf3 server. */
    void startBackends(String backendCpus, int httpThreads) {
        for (int port : new int[] {Route.HTTP_BACKEND_1, Route.HTTP_BACKEND_2, Route.BULK_BACKEND}) {
            free(new InetSocketAddress(Route.BACKEND_IP, port));
        }
        Procs.Proc http = procs.start("http-backend", backendCpus, List.of(java(), "-cp", System.getProperty("java.class.path"),
                HttpBackend.class.getName(), "--threads", Integer.toString(httpThreads),
                Route.BACKEND_IP + ":" + Route.HTTP_BACKEND_1, Route.BACKEND_IP + ":" + Route.HTTP_BACKEND_2));
        Procs.Proc iperf = procs.start("iperf3-server", backendCpus, List.of("iperf3", "-s", "-B", Route.BACKEND_IP,
                "-p", Integer.toString(Route.BULK_BACKEND)));
        for (int port : new int[] {Route.HTTP_BACKEND_1, Route.HTTP_BACKEND_2}) {
            InetSocketAddress a = new InetSocketAddress(Route.BACKEND_IP, port);
            Ready.await("HTTP backend " + a, READY, () -> Ready.answersHttp(a), http);
        }
        InetSocketAddress bulk = new InetSocketAddress(Route.BACKEND_IP, Route.BULK_BACKEND);
        Ready.await("iperf3 server " + bulk, READY, () -> Ready.listening(bulk), iperf);
    }

    Route start(String key) {
        if (!key.equals("direct")) {
            free(Route.httpFront(key));
            free(Route.bulkFront(key));
        }
        List<Procs.Proc> started = switch (key) {
            case "direct" -> List.of();
            case "ferry" -> List.of(ferryProxy());
            case "ferry-fwd" -> List.of(bareForwarder());
            case "haproxy-1t" -> List.of(haproxy(key, true));
            case "haproxy" -> List.of(haproxy(key, false));
            case "haproxy-splice" -> List.of(haproxy(key, false));
            case "socat" -> socat();
            default -> throw new IllegalArgumentException(key);
        };
        Procs.Proc proxy = started.isEmpty() ? null : started.get(0);
        InetSocketAddress http = Route.httpFront(key);
        InetSocketAddress bulk = Route.bulkFront(key);
        Ready.await(key + " HTTP front " + http, READY, () -> Ready.answersHttp(http), proxy);
        Ready.await(key + " bulk front " + bulk, READY, () -> Ready.listening(bulk), proxy);
        String label = label(key);
        if (key.equals("haproxy") || key.equals("haproxy-splice")) {
            // its default nbthread is the number of CPUs it may run on: say how many it chose
            label += " (" + threads(proxy) + ")";
        }
        return new Route(key, label, http, bulk, started);
    }

    /** Another run (or anything else) on our addresses would mix its traffic into ours: refuse to start. */
    private static void free(InetSocketAddress a) {
        if (Ready.listening(a)) {
            throw new IllegalStateException(a + " is already listening: is another ForwarderBenchmark running? "
                    + "(the figures would mix both runs' traffic)");
        }
    }

    static String label(String key) {
        return switch (key) {
            case "direct" -> "direct (client -> backend)";
            case "ferry" -> "ferry proxy.jar, userspace mode";
            case "ferry-fwd" -> "ferry forwarder alone (Forwarders API)";
            case "haproxy-1t" -> "HAProxy tcp, nbthread 1";
            case "haproxy" -> "HAProxy tcp, nbthread default";
            case "haproxy-splice" -> "HAProxy tcp, nbthread default, option splice-auto";
            case "socat" -> "socat (fork, one backend)";
            default -> key;
        };
    }

    /**
     * The real proxy: {@code java -jar proxy.jar --proxy-mode=userspace --manifests DIR}, a ClusterIP
     * Service on a loopback address with the backends' EndpointSlices. Run as an unprivileged user
     * when we are root, so that it binds the Service address directly instead of writing portal
     * rules into this machine's own iptables (which the benchmark must not touch).
     */
    private Procs.Proc ferryProxy() {
        Path manifests = dir.resolve("manifests");
        String ip = Route.ip("ferry");
        try {
            Files.createDirectories(manifests);
            Files.setPosixFilePermissions(manifests, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            write(manifests.resolve("node.yaml"), Manifests.node("bench-node"));
            write(manifests.resolve("http.yaml"), Manifests.service("bench-http", ip, "http", Route.HTTP_FRONT)
                    + "---\n" + Manifests.slice("bench-http", "bench-http-a", "http", Route.BACKEND_IP, Route.HTTP_BACKEND_1)
                    + "---\n" + Manifests.slice("bench-http", "bench-http-b", "http", Route.BACKEND_IP, Route.HTTP_BACKEND_2));
            write(manifests.resolve("bulk.yaml"), Manifests.service("bench-bulk", ip, "bulk", Route.BULK_FRONT)
                    + "---\n" + Manifests.slice("bench-bulk", "bench-bulk-a", "bulk", Route.BACKEND_IP, Route.BULK_BACKEND));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> argv = new ArrayList<>();
        if (Manifests.isRoot()) {
            argv.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
        }
        argv.addAll(List.of(java(), "-jar", proxyJar.toString(), "--proxy-mode=userspace", "--manifests", manifests.toString(),
                "--hostname-override=bench-node", "--healthz-bind-address=", "--metrics-bind-address="));
        return procs.start("ferry", proxyCpus, argv);
    }

    /** Our forwarder without the daemon around it: {@link BareForwarder} in its own JVM. */
    private Procs.Proc bareForwarder() {
        String ip = Route.ip("ferry-fwd");
        return procs.start("ferry-fwd", proxyCpus, List.of(java(), "-cp", System.getProperty("java.class.path"),
                BareForwarder.class.getName(),
                ip + ":" + Route.HTTP_FRONT, Route.BACKEND_IP + ":" + Route.HTTP_BACKEND_1 + "," + Route.BACKEND_IP + ":" + Route.HTTP_BACKEND_2,
                ip + ":" + Route.BULK_FRONT, Route.BACKEND_IP + ":" + Route.BULK_BACKEND));
    }

    /**
     * HAProxy 2.6 in mode tcp, round robin over the same backends; config generated in the run's directory.
     * "haproxy-splice" adds {@code option splice-auto}: HAProxy's own switch to splice(2) for bulk, the same
     * technique as our forwarder's, so that bulk compares like with like (Debian's default config does not splice).
     */
    private Procs.Proc haproxy(String key, boolean oneThread) {
        String ip = Route.ip(key);
        String cfg = """
                global
                %s    maxconn %d
                defaults
                    mode tcp
                %s    timeout connect 5s
                    timeout client 60s
                    timeout server 60s
                frontend http_in
                    bind %s:%d
                    default_backend http
                backend http
                    balance roundrobin
                    server b1 %s:%d
                    server b2 %s:%d
                frontend bulk_in
                    bind %s:%d
                    default_backend bulk
                backend bulk
                    balance roundrobin
                    server i1 %s:%d
                """.formatted(oneThread ? "    nbthread 1\n" : "",
                // with splice HAProxy reserves two descriptors per pipe (maxconn / 4 pipes): 8000 needs more
                // descriptors than this machine's limit of 20000; the runs use at most 50 connections at a time
                key.equals("haproxy-splice") ? 4000 : 8000,
                key.equals("haproxy-splice") ? "    option splice-auto\n" : "", ip, Route.HTTP_FRONT,
                Route.BACKEND_IP, Route.HTTP_BACKEND_1, Route.BACKEND_IP, Route.HTTP_BACKEND_2,
                ip, Route.BULK_FRONT, Route.BACKEND_IP, Route.BULK_BACKEND);
        Path file = dir.resolve(key + ".cfg");
        write(file, cfg);
        Procs.run(null, List.of("haproxy", "-c", "-q", "-f", file.toString()), 30);
        return procs.start(key, proxyCpus, List.of("haproxy", "-db", "-f", file.toString()));
    }

    /** socat: one process per path, a fork per connection, to one backend (it cannot balance). */
    private List<Procs.Proc> socat() {
        String ip = Route.ip("socat");
        Procs.Proc bulk = procs.start("socat-bulk", proxyCpus, List.of("socat",
                "TCP-LISTEN:" + Route.BULK_FRONT + ",bind=" + ip + ",fork,reuseaddr,backlog=4096",
                "TCP:" + Route.BACKEND_IP + ":" + Route.BULK_BACKEND));
        Procs.Proc http = procs.start("socat-http", proxyCpus, List.of("socat",
                "TCP-LISTEN:" + Route.HTTP_FRONT + ",bind=" + ip + ",fork,reuseaddr,backlog=4096",
                "TCP:" + Route.BACKEND_IP + ":" + Route.HTTP_BACKEND_1));
        Ready.await("socat bulk front", READY, () -> Ready.listening(Route.bulkFront("socat")), bulk);
        return List.of(http, bulk);
    }

    private static String threads(Procs.Proc p) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status")).stream()
                    .filter(l -> l.startsWith("Threads:")).map(l -> l.substring(8).trim() + " threads").findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
