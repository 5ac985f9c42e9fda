package dev.ferry.iptables;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.mode.inspect.PacketTracer;
import dev.ferry.netfilter.IptablesDump;

import java.net.InetAddress;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Packet-flow checks in the manner of upstream's runPacketFlowTests: a packet goes through
 * the rules and we compare the set of endpoints it can reach (or REJECT/DROP, or "" when no
 * rule catches it) and whether it is masqueraded.
 */
final class Flows {

    /** Node addresses used by upstream's tests (plus their IPv6 ones). */
    static final List<String> NODE_IPS = List.of("192.168.0.2", "192.168.1.2", "192.168.99.11", "2001:db8::1", "2001:db8:1::2");

    record Flow(String name, String source, String destination, int port, Protocol protocol, String output, boolean masq) {
        static Flow tcp(String name, String source, String destination, int port, String output, boolean masq) {
            return new Flow(name, source, destination, port, Protocol.TCP, output, masq);
        }
    }

    private Flows() {
    }

    /** {@link #run(IptablesDump, List)} for packets arriving on interface {@code in}. */
    static void runArrivingOn(String in, IptablesDump dump, List<Flow> flows) {
        run(PacketTracer.settleInterfaces(dump, in, null), flows);
    }

    static void run(IptablesDump dump, List<Flow> flows) {
        List<InetAddress> local = NODE_IPS.stream().map(IpAddresses::parse).toList();
        PacketTracer tracer = new PacketTracer(dump, local);
        StringBuilder failures = new StringBuilder();
        for (Flow f : flows) {
            InetAddress src = IpAddresses.parse(f.source());
            InetAddress dst = IpAddresses.parse(f.destination());
            PacketTracer.Origin origin = local.contains(src) || src.isLoopbackAddress()
                    ? PacketTracer.Origin.LOCAL : PacketTracer.Origin.EXTERNAL;
            List<PacketTracer.Outcome> outcomes = tracer.trace(
                    new PacketTracer.Packet(IpFamily.of(src), f.protocol(), src, dst, f.port(), origin));
            double total = outcomes.stream().mapToDouble(PacketTracer.Outcome::probability).sum();
            if (Math.abs(total - 1.0) > 1e-9) {
                failures.append(f.name()).append(": probabilities sum to ").append(total).append('\n');
            }
            String output = outcomes.stream().map(PacketTracer.Outcome::summary)
                    .collect(Collectors.toCollection(TreeSet::new)).stream().collect(Collectors.joining(", "));
            boolean masq = outcomes.stream().anyMatch(PacketTracer.Outcome::masqueraded);
            boolean allMasq = outcomes.stream().allMatch(PacketTracer.Outcome::masqueraded);
            if (!output.equals(f.output())) {
                failures.append(f.name()).append(": output ").append(output).append(", want ").append(f.output())
                        .append("\n  ").append(outcomes).append('\n');
            } else if (!f.output().isEmpty() && !f.output().equals("REJECT") && !f.output().equals("DROP")
                    && (masq != f.masq() || masq != allMasq)) {
                failures.append(f.name()).append(": masquerade ").append(masq).append(" (all: ").append(allMasq)
                        .append("), want ").append(f.masq()).append('\n');
            }
        }
        if (failures.length() > 0) {
            fail(failures.toString());
        }
    }

    /** Probability of each DNAT destination. */
    static void assertShares(IptablesDump dump, String src, String dst, int port, java.util.Map<String, Double> want) {
        List<InetAddress> local = NODE_IPS.stream().map(IpAddresses::parse).toList();
        InetAddress s = IpAddresses.parse(src);
        List<PacketTracer.Outcome> outcomes = new PacketTracer(dump, local).trace(new PacketTracer.Packet(
                IpFamily.of(s), Protocol.TCP, s, IpAddresses.parse(dst), port, PacketTracer.Origin.EXTERNAL));
        java.util.Map<String, Double> got = new java.util.TreeMap<>();
        for (PacketTracer.Outcome o : outcomes) {
            got.merge(o.summary(), o.probability(), Double::sum);
        }
        assertEquals(want.keySet(), got.keySet());
        want.forEach((k, v) -> assertEquals(v, got.get(k), 1e-6, k));
    }
}
