package dev.ferry.proxy.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.core.NamespacedName;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.ServicePortState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** The {@code inspect services}, {@code inspect service NS/NAME} and {@code inspect conntrack NS/NAME} commands. */
final class ServiceCommands {

    private ServiceCommands() {
    }

    /** Where Services, EndpointSlices and the Node come from, and which node and mode: as the proxy's flags. */
    static final class SourceOptions {
        @Option(names = "--manifests", paramLabel = "DIR", description = "Read Services, EndpointSlices and Nodes from YAML/JSON files in DIR instead of an API server.")
        Path manifests;

        @Option(names = "--kubeconfig", paramLabel = "FILE", description = "Kubeconfig of the API server.")
        Path kubeconfig;

        @Option(names = "--master", paramLabel = "URL", description = "API server address (overrides the kubeconfig's).")
        String master;

        @Option(names = "--hostname-override", paramLabel = "NAME", description = "This node's name (default: the hostname).")
        String hostname;

        @Option(names = "--proxy-mode", paramLabel = "MODE", description = "The proxy mode, e.g. iptables (default: detected on this node).")
        String mode;

        @Option(names = "--source-timeout", paramLabel = "SECONDS", defaultValue = "30",
                description = "How long to wait for the API server or the files (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        Duration timeout() {
            return Duration.ofSeconds(Math.max(1, timeoutSeconds));
        }
    }

    /** Loads what both inspect reports need: the mode, the snapshot and the node's programmed state. */
    abstract static class InspectBase implements Callable<Integer> {
        @Mixin
        InspectCommands.Help help = new InspectCommands.Help();

        final InspectCommands.Context ctx;

        @Mixin
        SourceOptions source = new SourceOptions();

        InspectBase(InspectCommands.Context ctx) {
            this.ctx = ctx;
        }

        ModeDetection.Detected mode() throws IOException {
            if (source.mode != null) {
                return ModeDetection.given(ctx.env().modes(), source.mode, ctx.env().node());
            }
            return ModeDetection.detect(ctx.env().modes(), ctx.env().node());
        }

        ProxySnapshot snapshot() throws Exception {
            return ctx.env().load(source);
        }

        void header(ProxySnapshot snapshot, ModeDetection.Detected mode) {
            ctx.out().println("node " + snapshot.node().name()
                    + (snapshot.node().zone().isEmpty() ? "" : " (zone " + snapshot.node().zone() + ")")
                    + ", mode " + mode.mode().name() + " (" + mode.how() + ")");
            ctx.out().println();
        }
    }

    @Command(name = "services", description = "One line per service port: addresses, policies, endpoints in/out, programmed or not.")
    static final class Services extends InspectBase {
        Services(InspectCommands.Context ctx) {
            super(ctx);
        }

        @Override
        public Integer call() throws Exception {
            ModeDetection.Detected mode = mode();
            ProxySnapshot snapshot = snapshot();
            header(snapshot, mode);
            ctx.out().print(ServiceReports.services(snapshot, new Programmed(mode.mode(), mode.view())));
            return InspectCommands.OK;
        }
    }

    @Command(name = "service", description = "One Service: its rules or virtual servers, and every endpoint with why it is in or out.")
    static final class OneService extends InspectBase {
        @Parameters(paramLabel = "NS/NAME", description = "The Service (namespace default when only NAME is given).")
        String service;

        OneService(InspectCommands.Context ctx) {
            super(ctx);
        }

        @Override
        public Integer call() throws Exception {
            NamespacedName name = InspectCommands.parseName(service);
            ModeDetection.Detected mode = mode();
            ProxySnapshot snapshot = snapshot();
            String report = ServiceReports.service(snapshot, name, new Programmed(mode.mode(), mode.view()));
            if (report == null) {
                ctx.err().println("error: Service " + name + " is not served on node " + snapshot.node().name()
                        + " (no such Service, or it has no ports, or it is headless)");
                return InspectCommands.FAILED;
            }
            header(snapshot, mode);
            ctx.out().print(report);
            return InspectCommands.OK;
        }
    }

    @Command(name = "conntrack", description = "The conntrack flows of one Service (read over netlink); STALE marks flows to a gone endpoint.")
    static final class ConntrackFlows extends InspectBase {
        @Parameters(paramLabel = "NS/NAME", description = "The Service (namespace default when only NAME is given).")
        String service;

        ConntrackFlows(InspectCommands.Context ctx) {
            super(ctx);
        }

        @Override
        public Integer call() throws Exception {
            NamespacedName name = InspectCommands.parseName(service);
            ProxySnapshot snapshot = snapshot();
            List<ServicePortState> ports = ServiceReports.ports(snapshot, name);
            if (ports.isEmpty()) {
                ctx.err().println("error: Service " + name + " is not served on node " + snapshot.node().name());
                return InspectCommands.FAILED;
            }
            NodeState node = ctx.env().node();
            List<InetAddress> addresses = node.localAddresses();
            for (IpFamily family : IpFamily.values()) {
                if (ports.stream().anyMatch(p -> p.port().clusterIP(family).isPresent())) {
                    ctx.out().print(ConntrackReport.render(ports, family, node.conntrack(family), addresses));
                }
            }
            return InspectCommands.OK;
        }
    }
}
