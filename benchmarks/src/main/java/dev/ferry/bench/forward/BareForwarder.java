package dev.ferry.bench.forward;

import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePortName;
import dev.ferry.userspace.forward.ForwarderConfig;
import dev.ferry.userspace.forward.Forwarders;
import dev.ferry.userspace.forward.ServicePortForwarder;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Our forwarder without the daemon: the {@link Forwarders} API in a JVM of its own (so it is pinned
 * like the other forwarders), one TCP service port per pair of arguments, round robin over the
 * given endpoints, no affinity, {@link ForwarderConfig#defaults()}.
 * {@code java -cp benchmarks.jar dev.ferry.bench.forward.BareForwarder LISTEN ENDPOINT[,ENDPOINT...] ...}
 * with addresses as host:port. Runs until killed; the main thread only sets up and then waits.
 */
public final class BareForwarder {

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args.length % 2 != 0) {
            System.err.println("usage: BareForwarder LISTEN ENDPOINT[,ENDPOINT...] [LISTEN ENDPOINTS]...");
            System.exit(2);
        }
        ForwarderConfig config = ForwarderConfig.defaults();
        String splice = System.getProperty("ferry.spliceReadBytes");
        if (splice != null) { // for experiments: -Dferry.spliceReadBytes=N (-1: never splice)
            config = config.withSpliceReadBytes(Long.parseLong(splice));
        }
        Forwarders forwarders = new Forwarders(config);
        Runtime.getRuntime().addShutdownHook(new Thread(forwarders::close, "bare-forwarder-shutdown"));
        for (int i = 0; i < args.length; i += 2) {
            ServicePortForwarder f = forwarders.create(new ServicePortName("default", "bench-" + i / 2, "p", Protocol.TCP));
            List<InetSocketAddress> endpoints = new ArrayList<>();
            Arrays.stream(args[i + 1].split(",")).map(BareForwarder::address).forEach(endpoints::add);
            f.update(endpoints, 0);
            InetSocketAddress bound = f.listen(address(args[i]));
            System.out.printf("BareForwarder (%s): %s -> %s%n", forwarders.transport(), bound, endpoints);
        }
        System.out.flush();
        new CountDownLatch(1).await();
    }

    static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    private BareForwarder() {
    }
}
