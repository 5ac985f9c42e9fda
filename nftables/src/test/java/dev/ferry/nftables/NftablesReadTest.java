package dev.ferry.nftables;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Reads on the real kernel: chains, sets, elements and rules written through our client (the
 * objects and rules of resources nft-netlink/) come back as the same objects. What the kernel adds
 * or fills in is normalised: rule handles, set ids (a batch's own numbers), anonymous set names
 * ("__set%d" becomes "__set0").
 */
@Tag("privileged")
class NftablesReadTest {

    private TestNamespace ns;

    @BeforeEach
    void namespace() throws IOException {
        assumeTrue(TestNamespace.isRoot(), "needs root to create network namespaces and program nf_tables");
        ns = new TestNamespace();
    }

    @AfterEach
    void deleteNamespace() throws IOException {
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void chainsSetsAndElementsComeBackAsWritten() throws IOException {
        try (Nftables nft = Nftables.open(ns.file())) {
            Nftables recorder = new Nftables(null);
            RuleShapes.objects(recorder); // the same objects, to know what was written
            RuleShapes.objects(nft);
            nft.flush();

            List<Chain> chains = nft.chains(RuleShapes.T);
            assertEquals(5, chains.size(), chains.toString());
            assertTrue(chains.contains(Chain.regular(RuleShapes.T, "services").withComment("dispatch to services")), chains.toString());
            assertTrue(chains.contains(new Chain(RuleShapes.T, "filter-forward", new Chain.Base(Chain.Type.FILTER,
                    Chain.Hook.FORWARD, -110, Chain.Policy.DROP), null)), chains.toString());
            assertTrue(chains.contains(Chain.base(RuleShapes.T, "nat-prerouting", Chain.Type.NAT, Chain.Hook.PREROUTING, -100)),
                    chains.toString());

            List<NftSet> sets = nft.sets(RuleShapes.T);
            assertEquals(9, sets.size(), sets.toString());
            NftSet serviceIps = named(sets, "service-ips");
            assertEquals(NftSet.verdictMap(RuleShapes.T, "service-ips", DataType.IPV4_ADDR, DataType.INET_PROTO,
                    DataType.INET_SERVICE).withComment("ClusterIP, ExternalIP and LoadBalancer IP traffic"), serviceIps);
            assertEquals(List.of(Element.of(Data.concat(NftCodecTest.ip("172.30.0.41"), Data.protocol(6), Data.port(80)),
                    Verdict.goTo("services"))), nft.elements(serviceIps));
            NftSet affinity = named(sets, "affinity-x");
            assertEquals(Set.of(NftSet.Flag.DYNAMIC, NftSet.Flag.TIMEOUT), affinity.flags());
            assertEquals(java.time.Duration.ofHours(3), affinity.timeout());
            assertEquals(List.of(Element.of(NftCodecTest.ip("10.1.2.3")).withTimeout(java.time.Duration.ofSeconds(10))),
                    nft.elements(named(sets, "timed")));
            assertEquals(Set.of(Element.intervalEnd(NftCodecTest.ip("0.0.0.0")), Element.of(NftCodecTest.ip("10.0.0.0")),
                    Element.intervalEnd(NftCodecTest.ip("11.0.0.0"))), new HashSet<>(nft.elements(named(sets, "ranges"))));
            assertEquals(List.of(Element.of(Data.hostU32(0x4000), Data.concat(NftCodecTest.ip("10.180.0.1"), Data.port(80)))),
                    nft.elements(named(sets, "dnat-targets")));
            assertEquals(List.of(Element.of(Data.concat(NftCodecTest.ip("172.30.0.42"), Data.protocol(17), Data.port(53)),
                    Verdict.DROP).withComment("ns1/svc2:dns")), nft.elements(named(sets, "no-endpoint-services")));
        }
    }

    @Test
    void aSetDeclaredByTypeofComesBackWithItsFields() throws IOException {
        try (Nftables nft = Nftables.open(ns.file())) {
            RuleShapes.typeof(nft);
            nft.flush();
            NftSet endpoints = named(nft.sets(RuleShapes.T), "endpoints");
            assertEquals(NftSet.typeof(RuleShapes.T, "endpoints", List.of(SetField.ipDestination(),
                    SetField.tcpDestinationPort(), SetField.numgenRandom(2)), List.of(SetField.ipDestination(),
                    SetField.tcpDestinationPort())), endpoints);
            assertEquals(2, nft.elements(endpoints).size());
        }
    }

    @Test
    void rulesComeBackAsWrittenWithTheirHandles() throws IOException {
        try (Nftables nft = Nftables.open(ns.file())) {
            List<Rule> written = RuleShapes.rules(nft);
            nft.flush();

            List<Rule> read = nft.rules(RuleShapes.T);
            assertEquals(written.size(), read.size());
            assertTrue(read.stream().allMatch(r -> r.handle() > 0), "every rule has its handle");
            assertEquals(normalised(written), normalised(read));
            Rule nodePorts = read.stream().filter(r -> "nodeports".equals(r.comment())).findFirst().orElseThrow();
            assertEquals("services", nodePorts.chain());
        }
    }

    private static NftSet named(List<NftSet> sets, String name) {
        return sets.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
    }

    /** Sorted by chain (the kernel lists chain by chain), without handles, set ids and anonymous set numbers. */
    private static List<String> normalised(List<Rule> rules) {
        List<String> out = new ArrayList<>();
        for (Rule r : rules) {
            List<Expression> expressions = new ArrayList<>();
            for (Expression e : r.expressions()) {
                if (e instanceof Lookup l) {
                    e = new Lookup(anonymous(l.set()), 0, l.source(), l.destination(), l.inverted());
                } else if (e instanceof Dynset d) {
                    e = new Dynset(d.set(), 0, d.op(), d.source(), d.timeout());
                } else if (e instanceof Nat n) {
                    e = new Nat(n.type(), n.family(), n.addressMin(), n.addressMax(), n.portMin(), n.portMax(),
                            n.effectiveFlags()); // the kernel adds the flags an address and a port imply
                }
                expressions.add(e);
            }
            out.add(new Rule(r.table(), r.chain(), expressions, r.comment(), 0, 0).toString());
        }
        out.sort(java.util.Comparator.comparing(s -> s.substring(0, s.indexOf("expressions="))));
        return out;
    }

    private static String anonymous(String set) {
        return set.replaceAll("^__(set|map)\\d+$", "__$1%d");
    }
}
