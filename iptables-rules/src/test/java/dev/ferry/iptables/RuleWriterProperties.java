package dev.ferry.iptables;

import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.FakeRunner;
import dev.ferry.netfilter.IptablesDump;
import dev.ferry.netfilter.NetNamespace;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random, often malformed Services and EndpointSlices through core's tracker into the writer
 * and the backend: nothing throws, every payload is structurally sound (the fake kernel applies
 * it), and with root the real iptables-restore --test accepts it.
 */
class RuleWriterProperties {

    private static final List<String> GOOD_NAMES = List.of("ns1", "svc", "a", "web-1");
    private static final List<String> BAD_NAMES = List.of("x.y", "a b", "q\"uote", "new\nline", "back\\slash", "",
            "UPPER", "-dash", "very-long-name-" + "x".repeat(60), "\u00fcn\u00ef");
    private static final List<String> GOOD_IPS = List.of("10.0.0.1", "10.0.0.2", "172.30.0.1", "fd00::1", "fd00::2",
            "FD00:0:0::3");
    private static final List<String> BAD_IPS = List.of("None", "", "garbage", "300.1.1.1", "10.1", "01.2.3.4",
            "::ffff:1.2.3.4", "fe80::1%eth0", "1.2.3.4/32", " 10.0.0.9");

    /** Mostly well-formed values, sometimes not, so many objects get through and some do not. */
    private static Arbitrary<String> names() {
        return names(GOOD_NAMES);
    }

    private static Arbitrary<String> names(List<String> good) {
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(9, Arbitraries.of(good)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(BAD_NAMES)));
    }

    private static Arbitrary<String> ips() {
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(9, Arbitraries.of(GOOD_IPS)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(BAD_IPS)));
    }

    private static Arbitrary<String> protocols() {
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(9, Arbitraries.of("TCP", "TCP", "TCP", "TCP", "TCP", "TCP", "UDP", "SCTP")),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("tcp", "ICMP", "")));
    }

    private static Arbitrary<Integer> ports() {
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(9, Arbitraries.of(53, 80, 443, 65535)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(-1, 0, 70000)));
    }

    private static NetNamespace ns;
    private static boolean rootChecked;
    private static boolean root;

    @AfterContainer
    static void removeNamespace() throws IOException {
        if (ns != null) {
            ns.close();
            ns = null;
        }
    }

    private static NetNamespace namespace() throws IOException {
        if (!rootChecked) {
            rootChecked = true;
            root = NetNamespace.isRoot();
        }
        if (root && ns == null) {
            ns = NetNamespace.create();
        }
        return ns;
    }

    @Property(tries = 200, edgeCases = net.jqwik.api.EdgeCasesMode.NONE)
    void malformedInputNeverBreaksASync(@ForAll("services") List<Service> services,
                                         @ForAll("slices") List<EndpointSlice> slices,
                                         @ForAll long seed) throws Exception {
        TestSnapshots t = new TestSnapshots();
        ProxySnapshot snap;
        java.util.Random random = new java.util.Random(seed);
        try {
            services = externallyReachable(services, random);
            services.forEach(t::add);
            slices.forEach(t::add);
            matchingSlices(services, random).forEach(t::add);
            snap = t.snapshot();
        } catch (RuntimeException e) {
            fail("core threw on malformed input (core's job; reported, not patched here): " + e, e);
            return;
        }
        long withEndpoints = snap.servicePorts().stream()
                .filter(sp -> sp.selection(IpFamily.IPV4).hasAnyEndpoints() || sp.selection(IpFamily.IPV6).hasAnyEndpoints()).count();
        net.jqwik.api.statistics.Statistics.label("service ports").collect(snap.servicePorts().isEmpty() ? "none" : "some");
        net.jqwik.api.statistics.Statistics.label("with endpoints").collect(withEndpoints > 0 ? "some" : "none");
        for (IpFamily family : IpFamily.values()) {
            FakeRunner fake = new FakeRunner(IptablesDump.empty());
            IptablesBackend backend = TestBackends.of(family, IptablesRuleWriterTest.CLUSTER_CIDR, fake);
            SyncResult r = backend.sync(snap);
            assertTrue(r.ok(), "the fake kernel rejected the payload: " + r.error() + "\n" + fake.restored);
            assertTrue(backend.sync(snap).ok(), "resync");
            String payload = fake.restored.get(0);
            for (String line : payload.split("\n")) {
                assertTrue(line.chars().allMatch(c -> c >= 0x20 && c < 0x7f), "non-printable in: " + line);
            }
            NetNamespace n = namespace();
            if (n != null) {
                String cmd = family == IpFamily.IPV4 ? "iptables-restore" : "ip6tables-restore";
                CommandRunner.Result res = n.runner.run(List.of(cmd, "--test", "--noflush"),
                        payload.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                assertTrue(res.ok(), cmd + " --test rejected: " + res.stderr() + "\n" + payload);
            }
        }
    }

    /** Some Services become NodePort / LoadBalancer ones with external IPs and Local policy. */
    private static List<Service> externallyReachable(List<Service> services, java.util.Random random) {
        List<Service> out = new ArrayList<>();
        int nodePort = 30000;
        for (Service s : services) {
            if (s.getSpec() == null || random.nextInt(3) != 0) {
                out.add(s);
                continue;
            }
            Service c = new ServiceBuilder(s).build();
            c.getSpec().setType(random.nextBoolean() ? "LoadBalancer" : "NodePort");
            for (ServicePort p : c.getSpec().getPorts()) {
                p.setNodePort(nodePort++);
            }
            c.getSpec().setExternalIPs(random.nextBoolean() ? List.of("192.168.99.11", "2001:db8::9") : List.of());
            if (random.nextBoolean()) {
                c.getSpec().setExternalTrafficPolicy("Local");
                c.getSpec().setHealthCheckNodePort(nodePort++);
            }
            if ("LoadBalancer".equals(c.getSpec().getType())) {
                c.setStatus(new io.fabric8.kubernetes.api.model.ServiceStatusBuilder().withNewLoadBalancer()
                        .addNewIngress().withIp(random.nextBoolean() ? "1.2.3.4" : "2001:db8:2::1").endIngress()
                        .endLoadBalancer().build());
                if (random.nextBoolean()) {
                    c.getSpec().setLoadBalancerSourceRanges(List.of("203.0.113.0/25", "2001:db8:9::/64"));
                }
            }
            out.add(c);
        }
        return out;
    }

    /** Slices that belong to the Services (same namespace, name, port names), so most have endpoints. */
    private static List<EndpointSlice> matchingSlices(List<Service> services, java.util.Random random) {
        List<EndpointSlice> out = new ArrayList<>();
        int n = 0;
        for (Service s : services) {
            if (s.getMetadata() == null || s.getSpec() == null || s.getSpec().getPorts() == null || random.nextInt(5) == 0) {
                continue;
            }
            boolean v6 = s.getSpec().getClusterIP() != null && s.getSpec().getClusterIP().contains(":");
            List<EndpointPort> ports = new ArrayList<>();
            for (ServicePort p : s.getSpec().getPorts()) {
                int target = p.getPort() == null || p.getPort() < 1 || p.getPort() > 65535 ? 80 : p.getPort();
                ports.add(new EndpointPort(null, p.getName(), target, p.getProtocol()));
            }
            List<Endpoint> eps = new ArrayList<>();
            int count = 1 + random.nextInt(3);
            for (int i = 0; i < count; i++) {
                String ip = v6 ? "fd00:10::" + (n * 4 + i + 1) : "10.180." + n + "." + (i + 1);
                String node = random.nextBoolean() ? TestSnapshots.NODE : "other";
                boolean ready = random.nextInt(4) != 0;
                eps.add(new EndpointBuilder().withAddresses(ip).withNewConditions().withReady(ready)
                        .withServing(ready || random.nextBoolean()).withTerminating(!ready).endConditions()
                        .withNodeName(node).build());
            }
            out.add(new EndpointSliceBuilder().withNewMetadata().withNamespace(s.getMetadata().getNamespace())
                    .withName("match-" + n++).withLabels(Map.of("kubernetes.io/service-name",
                            s.getMetadata().getName() == null ? "" : s.getMetadata().getName())).endMetadata()
                    .withAddressType(v6 ? "IPv6" : "IPv4").withEndpoints(eps).withPorts(ports).build());
        }
        return out;
    }

    @Provide
    Arbitrary<List<Service>> services() {
        Arbitrary<ServicePort> port = Combinators.combine(
                names(List.of("p")).injectNull(0.7), ports(), protocols().injectNull(0.05))
                .as((name, p, proto) -> {
                    ServicePort sp = new ServicePort();
                    sp.setName(name);
                    sp.setPort(p);
                    sp.setProtocol(proto);
                    sp.setTargetPort(new IntOrString(p));
                    return sp;
                });
        Arbitrary<Service> service = Combinators.combine(
                names(List.of("ns1")), names(List.of("svc", "web")), ips().injectNull(0.05),
                port.list().ofMinSize(1).ofMaxSize(3), Arbitraries.of("ClientIP", "None", "Bogus").injectNull(0.3),
                Arbitraries.of(-5, 0, 10, 10800, 86401).injectNull(0.3),
                Arbitraries.of("Local", "Cluster", "bogus").injectNull(0.4),
                Arbitraries.of("ClusterIP", "ClusterIP", "ClusterIP", "NodePort", "ExternalName", "").injectNull(0.2))
                .as((namespace, name, ip, ports, affinity, timeout, itp, type) -> {
                    ServiceBuilder b = new ServiceBuilder().withNewMetadata().withNamespace(namespace).withName(name)
                            .endMetadata().withNewSpec().withType(type).withClusterIP(ip)
                            .withSessionAffinity(affinity).withInternalTrafficPolicy(itp).withPorts(ports).endSpec();
                    if (ip != null) {
                        b.editSpec().withClusterIPs(ip).endSpec();
                    }
                    if (timeout != null) {
                        b.editSpec().withNewSessionAffinityConfig().withNewClientIP().withTimeoutSeconds(timeout)
                                .endClientIP().endSessionAffinityConfig().endSpec();
                    }
                    return b.build();
                });
        return service.list().ofMaxSize(6);
    }

    @Provide
    Arbitrary<List<EndpointSlice>> slices() {
        Arbitrary<EndpointPort> port = Combinators.combine(
                names(List.of("p")).injectNull(0.7), ports().injectNull(0.05), protocols().injectNull(0.05))
                .as((name, p, proto) -> new EndpointPort(null, name, p, proto));
        Arbitrary<String> addressType = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.just("IPv4")), net.jqwik.api.Tuple.of(4, Arbitraries.just("IPv6")),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("FQDN", ""))).injectNull(0.05);
        Arbitrary<EndpointSlice> slice = addressType.flatMap(type -> Combinators.combine(
                names(List.of("ns1")), names(), names(List.of("svc", "web")).injectNull(0.05),
                endpoint("IPv6".equals(type)).list().ofMinSize(1).ofMaxSize(4), port.list().ofMinSize(1).ofMaxSize(2))
                .as((namespace, name, service, eps, ports) -> {
                    Map<String, String> labels = new HashMap<>();
                    if (service != null) {
                        labels.put("kubernetes.io/service-name", service);
                    }
                    return new EndpointSliceBuilder().withNewMetadata().withNamespace(namespace)
                            .withName(name + "-slice").withLabels(labels).endMetadata()
                            .withAddressType(type).withEndpoints(new ArrayList<>(eps)).withPorts(new ArrayList<>(ports))
                            .build();
                }));
        return slice.list().ofMaxSize(6);
    }

    private static Arbitrary<Endpoint> endpoint(boolean v6) {
        Arbitrary<String> ip = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(18, v6 ? Arbitraries.of("fd00::1", "fd00::2", "FD00:0:0::3")
                        : Arbitraries.of("10.0.0.1", "10.0.0.2", "10.0.0.3")),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(BAD_IPS)));
        return Combinators.combine(
                ip.list().ofMinSize(1).ofMaxSize(2), Arbitraries.of(true, true, true, false).injectNull(0.1),
                Arbitraries.of(false, false, true).injectNull(0.3),
                Arbitraries.of(TestSnapshots.NODE, "other").injectNull(0.3))
                .as((ips, ready, terminating, node) -> new EndpointBuilder().withAddresses(ips)
                        .withNewConditions().withReady(ready).withTerminating(terminating).endConditions()
                        .withNodeName(node).build());
    }
}
