package dev.ferry.nftables;

import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The round trip on the real kernel: a table built through our client in one transaction lists
 * ({@code nft list table}) exactly as the same table written by {@code nft -f}, each in a fresh
 * network namespace; our reads give back what we wrote; a refused batch names the command and the
 * expression or element, and changes nothing.
 */
class NftablesRoundTripTest extends TwoNamespaces {

    /** Each capture's script through nft in one namespace, and through our client in the other. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.ferry.nftables.NftCodecTest#captures")
    void ourTablesListAsNftsOwn(String capture, NftCodecTest.Builder builder) throws Exception {
        String script = NftCaptures.script(capture);
        nfts.nft(script);
        try (Nftables nft = Nftables.open(ours.file())) {
            builder.build(nft);
            nft.flush();
        }
        String[] table = script.lines().findFirst().orElseThrow().split(" "); // "table FAMILY NAME {"
        assertEquals(withoutExpiry(nfts.listTable(table[1], table[2])), withoutExpiry(ours.listTable(table[1], table[2])));
    }

    /** An element with a timeout lists the time it has left ("expires 9s952ms"), which moves on. */
    private static String withoutExpiry(String listing) {
        return listing.replaceAll(" expires [0-9hms]+", "");
    }

    @Test
    void aBadRuleIsNamedWithItsExpressionAndNothingIsApplied() throws IOException {
        try (Nftables nft = Nftables.open(ours.file())) {
            Table t = RuleShapes.T;
            nft.addTable(t, null);
            Chain c = Chain.regular(t, "c");
            nft.addChain(c);
            nft.addRule(Rule.of(c, Meta.load(Meta.Key.L4PROTO, Expression.REG_1), Cmp.eq(Expression.REG_1, Data.protocol(6)),
                    Immediate.verdict(Verdict.jump("missing"))));
            NetlinkException e = assertThrows(NetlinkException.class, nft::flush);
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().startsWith("add rule in chain ip t c, at expression Immediate[destination=0, "
                    + "data=null, verdict=jump missing] (3 of 3): "), e.getMessage());
            assertTrue(e.getMessage().contains("nothing of the transaction was applied"), e.getMessage());
            assertFalse(nft.exists(t), "the table of the refused batch was not created");
        }
    }

    @Test
    void aBadElementIsNamed() throws IOException {
        try (Nftables nft = Nftables.open(ours.file())) {
            Table t = RuleShapes.T;
            nft.addTable(t, null);
            NftSet map = nft.addSet(NftSet.verdictMap(t, "m", DataType.IPV4_ADDR), List.of(
                    Element.of(NftCodecTest.ip("10.0.0.1"), Verdict.ACCEPT),
                    Element.of(NftCodecTest.ip("10.0.0.2"), Verdict.goTo("missing"))));
            NetlinkException e = assertThrows(NetlinkException.class, nft::flush);
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().startsWith("add element to map ip t m, at element Element[key=0x0a000002"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("(2 of 2)"), e.getMessage());
        }
    }

    @Test
    void aLargeTransactionIsSentAndConfirmedWhole() throws IOException {
        int chains = 5000; // about 400 KiB: beyond the default socket buffers, and 5000 answers
        try (Nftables nft = Nftables.open(ours.file())) {
            nft.addTable(RuleShapes.T, null);
            for (int i = 0; i < chains; i++) {
                Chain c = Chain.regular(RuleShapes.T, "service-" + i + "-ns/svc/tcp/p80");
                nft.addChain(c);
                nft.addRule(Rule.of(c, Meta.load(Meta.Key.L4PROTO, Expression.REG_1),
                        Cmp.eq(Expression.REG_1, Data.protocol(6)), Immediate.value(Expression.REG_1, Data.be32(i)),
                        Immediate.value(Expression.REG_2, Data.port(80)), Nat.dnat(TableFamily.IPV4, 1, 2)));
            }
            nft.flush();
            assertEquals(chains, nft.chains(RuleShapes.T).size());
            assertEquals(chains, nft.rules(RuleShapes.T).size());

            // Every command refused: far more refusals than the receive buffer holds; the first is still named.
            for (int i = 0; i < chains; i++) {
                nft.addRule(Rule.of(Chain.regular(RuleShapes.T, "service-" + i + "-ns/svc/tcp/p80"),
                        Immediate.verdict(Verdict.jump("missing-" + i))));
            }
            NetlinkException e = assertThrows(NetlinkException.class, nft::flush);
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().startsWith("add rule in chain ip t service-0-ns/svc/tcp/p80, at expression "
                    + "Immediate[destination=0, data=null, verdict=jump missing-0] (1 of 1): "), e.getMessage());
            assertEquals(chains, nft.rules(RuleShapes.T).size(), "nothing of it was applied");
        }
    }

    @Test
    void aLargeMapIsSentInAsManyMessagesAsItNeeds() throws IOException {
        int elements = 20_000; // about 700 KiB of elements: a dozen messages
        try (Nftables nft = Nftables.open(ours.file())) {
            nft.addTable(RuleShapes.T, null);
            nft.addChain(Chain.regular(RuleShapes.T, "svc"));
            List<Element> all = new java.util.ArrayList<>();
            for (int i = 0; i < elements; i++) {
                all.add(Element.of(Data.concat(Data.be32(0x0a000000L + i), Data.protocol(6), Data.port(80)),
                        Verdict.goTo("svc")).withComment("ns/svc-" + i + ":http"));
            }
            NftSet map = nft.addSet(NftSet.verdictMap(RuleShapes.T, "service-ips", DataType.IPV4_ADDR,
                    DataType.INET_PROTO, DataType.INET_SERVICE), all);
            nft.flush();
            assertEquals(new java.util.HashSet<>(all), new java.util.HashSet<>(nft.elements(map.withId(0))));
        }
    }

    @Test
    void theGenerationMovesWithEveryTransactionAndGuardsOne() throws IOException {
        try (Nftables nft = Nftables.open(ours.file())) {
            long before = nft.generation();
            nft.addTable(RuleShapes.T, null);
            nft.flush();
            long after = nft.generation();
            assertTrue(after != before, before + " then " + after);

            ours.nft("add table ip other\n"); // someone else commits
            nft.addChain(Chain.regular(RuleShapes.T, "c"));
            NetlinkException e = assertThrows(NetlinkException.class, () -> nft.flushIfGeneration(after));
            assertEquals(Batch.ERESTART, e.errno());
            assertTrue(e.getMessage().contains("the ruleset changed since its generation was read"), e.getMessage());
            assertEquals(List.of(), nft.chains(RuleShapes.T), "the guarded batch was not applied");

            nft.addChain(Chain.regular(RuleShapes.T, "c"));
            nft.flushIfGeneration(nft.generation());
            assertEquals(1, nft.chains(RuleShapes.T).size());
        }
    }
}
