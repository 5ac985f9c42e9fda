package dev.ferry.nftables;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static dev.ferry.nftables.DataType.INET_PROTO;
import static dev.ferry.nftables.DataType.INET_SERVICE;
import static dev.ferry.nftables.DataType.IPV4_ADDR;
import static dev.ferry.nftables.NftCodecTest.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sets and elements the kernel would refuse are refused here, naming the set and the element. */
class NftSetTest {

    private static final Table T = RuleShapes.T;
    private static final NftSet SERVICE_IPS = NftSet.verdictMap(T, "service-ips", IPV4_ADDR, INET_PROTO, INET_SERVICE);

    @Test
    void concatenatedKeysArePaddedAndTypedAsNftTypesThem() {
        assertEquals(12, NftSet.length(SERVICE_IPS.key()));
        assertEquals(0x730d, NftSet.typeId(SERVICE_IPS.key()));
        assertEquals(List.of(IPV4_ADDR, INET_PROTO, INET_SERVICE), NftSet.types(0x730d));
        assertEquals(2, NftSet.length(List.of(INET_SERVICE)), "a single field is not padded");
    }

    @Test
    void anElementOfTheWrongShapeIsNamed() {
        Nftables nft = new Nftables(null);
        IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class, () -> nft.addElements(SERVICE_IPS,
                List.of(Element.of(ip("10.0.0.1"), Verdict.ACCEPT))));
        assertTrue(shortKey.getMessage().startsWith("map ip t service-ips, element 0x0a000001: key of 4 bytes"),
                shortKey.getMessage());
        Data key = Data.concat(ip("10.0.0.1"), Data.protocol(6), Data.port(80));
        IllegalArgumentException noVerdict = assertThrows(IllegalArgumentException.class,
                () -> nft.addElements(SERVICE_IPS, List.of(Element.of(key))));
        assertTrue(noVerdict.getMessage().contains("the map's values are verdicts"), noVerdict.getMessage());
        assertThrows(IllegalArgumentException.class, () -> nft.addElements(NftSet.of(T, "s", IPV4_ADDR),
                List.of(Element.of(ip("10.0.0.1"), Verdict.DROP))), "a value in a plain set");
        assertThrows(IllegalArgumentException.class, () -> nft.addSet(SERVICE_IPS, List.of(Element.of(key))),
                "a set with a bad element is not added either");
        nft.deleteElements(SERVICE_IPS, List.of(Element.of(key))); // a deletion needs the key alone
        assertEquals(1, nft.pending().commandPayloads().size(), "nothing of the refused calls was buffered");
    }

    @Test
    void flagsTimeoutsAndNamesTheKernelRefusesAreRefusedHere() {
        assertThrows(IllegalArgumentException.class, () -> NftSet.of(T, "s", IPV4_ADDR).withTimeout(Duration.ofSeconds(1)),
                "a timeout needs flag timeout");
        assertThrows(IllegalArgumentException.class, () -> NftSet.of(T, "s", IPV4_ADDR, INET_SERVICE)
                .withFlags(Set.of(NftSet.Flag.INTERVAL)), "interval concatenations");
        assertThrows(IllegalArgumentException.class, () -> NftSet.of(T, "", IPV4_ADDR));
        assertThrows(IllegalArgumentException.class, () -> new NftSet(T, "m", List.of(IPV4_ADDR),
                List.of(DataType.VERDICT, IPV4_ADDR), Set.of(), null, null, 0, null));
        assertThrows(IllegalArgumentException.class, () -> Chain.regular(T, "x".repeat(256)));
        assertThrows(IllegalArgumentException.class, () -> Verdict.jump(""));
        assertThrows(IllegalArgumentException.class, () -> new Verdict(Verdict.ACCEPT_CODE, "x"));
    }
}
