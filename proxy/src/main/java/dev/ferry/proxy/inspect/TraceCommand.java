package dev.ferry.proxy.inspect;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.Protocol;
import dev.ferry.mode.inspect.TraceRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code trace}: a new connection's first packet through the live rules of this node, as the
 * mode's view walks them.
 */
@Command(name = "trace", description = "Walk the live rules (iptables-save, the IPVS table, ...) for a new connection's first packet.")
final class TraceCommand implements Callable<Integer> {
    @Mixin
    InspectCommands.Help help = new InspectCommands.Help();

    private final InspectCommands.Context ctx;

    @Option(names = "--src", required = true, paramLabel = "IP", description = "Source address (a pod, an outside client, or one of the node's).")
    String src;

    @Option(names = "--dst", required = true, paramLabel = "IP", description = "Destination address (a cluster IP, external IP, LB IP or node address).")
    String dst;

    @Option(names = "--port", required = true, paramLabel = "N", description = "Destination port.")
    int port;

    @Option(names = "--proto", defaultValue = "tcp", paramLabel = "PROTO", description = "tcp, udp or sctp (default: ${DEFAULT-VALUE}).")
    String proto;

    @Option(names = "--in-iface", paramLabel = "IF", description = "Interface the packet arrives on (default: the route back to --src).")
    String inIface;

    @Option(names = "--proxy-mode", paramLabel = "MODE", description = "The proxy mode, e.g. iptables (default: detected on this node).")
    String mode;

    @Option(names = "--iptables-masquerade-bit", defaultValue = "14", paramLabel = "BIT",
            description = "The proxy's masquerade mark bit (default: ${DEFAULT-VALUE}).")
    int masqueradeBit;

    TraceCommand(InspectCommands.Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
        TraceRequest req;
        try {
            if (!IpAddresses.isValid(src) || !IpAddresses.isValid(dst)) {
                throw new IllegalArgumentException("--src and --dst must be IP addresses: " + src + ", " + dst);
            }
            if (masqueradeBit < 0 || masqueradeBit > 31) {
                throw new IllegalArgumentException("--iptables-masquerade-bit " + masqueradeBit + " out of range 0..31");
            }
            req = new TraceRequest(IpAddresses.parse(src), IpAddresses.parse(dst), port,
                    Protocol.parse(proto.toUpperCase(Locale.ROOT)), inIface);
        } catch (IllegalArgumentException e) {
            ctx.err().println("error: " + e.getMessage());
            return InspectCommands.USAGE;
        }
        NodeState node = ctx.env().node();
        ModeDetection.Detected detected = mode != null ? ModeDetection.given(ctx.env().modes(), mode, node)
                : ModeDetection.detect(ctx.env().modes(), node);
        ctx.out().println("mode " + detected.mode().name() + " (" + detected.how() + ")");
        ctx.out().print(detected.view().trace(req, 1L << masqueradeBit, ctx.err()));
        return InspectCommands.OK;
    }
}
