package dev.ferry.proxy.flags;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.TypeConversionException;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --feature-gates as upstream's gate parses and checks it, against v1.34's list. */
class FeatureGatesTest {

    private static FeatureGates gates(String... args) {
        FeatureGateFlags flags = new FeatureGateFlags();
        new CommandLine(flags).parseArgs(args);
        return flags.gates();
    }

    private static String refused(String item) {
        return assertThrows(TypeConversionException.class, () -> new FeatureGates.SettingConverter().convert(item)).getMessage();
    }

    @Test
    void upstreamsSyntaxAndRepeatedFlagsAddUp() {
        FeatureGates g = gates("--feature-gates=LoggingAlphaOptions=true, ContextualLogging=false,",
                "--feature-gates", "WatchListClient=t");
        assertEquals(List.of("LoggingAlphaOptions", "ContextualLogging", "WatchListClient"), List.copyOf(g.set().keySet()));
        assertTrue(g.enabled("LoggingAlphaOptions"));
        assertFalse(g.enabled("ContextualLogging"));
        assertTrue(g.enabled("WatchListClient"), "Go's booleans: t, 1, true, TRUE...");
        assertTrue(gates("--feature-gates=").set().isEmpty(), "empty items are skipped, as upstream");
    }

    @Test
    void unknownAndLockedGatesAreRefusedAsUpstream() {
        assertEquals("unrecognized feature gate: NoSuchGate", refused("NoSuchGate=true"));
        assertEquals("unrecognized feature gate: nftablesproxymode", refused("nftablesproxymode=true"), "names are case-sensitive");
        assertEquals("cannot set feature gate NFTablesProxyMode to false, feature is locked to true",
                refused("NFTablesProxyMode=false"));
        assertEquals("missing bool value for LoggingAlphaOptions", refused("LoggingAlphaOptions"));
        assertTrue(refused("LoggingAlphaOptions=maybe").startsWith("invalid value of LoggingAlphaOptions=maybe"));
        // a gate of a later release is not one of v1.34's
        assertEquals("unrecognized feature gate: AtomicFIFO", refused("AtomicFIFO=true"));
    }

    @Test
    void defaultsAndAllAlphaAllBetaAsUpstream() {
        FeatureGates none = gates();
        assertFalse(none.enabled("LoggingAlphaOptions"), "alpha: off by default");
        assertTrue(none.enabled("LoggingBetaOptions"));
        assertTrue(none.enabled("PreferSameTrafficDistribution"), "beta in v1.34, on");
        assertTrue(gates("--feature-gates=AllAlpha=true").enabled("LoggingAlphaOptions"));
        assertFalse(gates("--feature-gates=AllAlpha=true,LoggingAlphaOptions=false").enabled("LoggingAlphaOptions"),
                "a gate set by name wins");
        assertFalse(gates("--feature-gates=AllBeta=false").enabled("LoggingBetaOptions"));
        assertTrue(gates("--feature-gates=AllBeta=false").enabled("NFTablesProxyMode"), "locked gates keep their value");
        assertTrue(FeatureGates.known("AllAlpha") && FeatureGates.known("ServiceTrafficDistribution"));
        assertTrue(FeatureGates.knownCount() > 200, "v1.34 has about 210 gates: " + FeatureGates.knownCount());
    }

    @Test
    void warningsAsUpstreamsAndWhereFerryDiffers() {
        List<String> w = gates("--feature-gates=NFTablesProxyMode=true,KMSv1=false,PreferSameTrafficDistribution=false,"
                + "ComponentFlagz=true,ContextualLogging=false").warnings();
        assertEquals(4, w.size(), w.toString());
        assertTrue(w.get(0).contains("setting GA feature gate NFTablesProxyMode=true"), w.get(0));
        assertTrue(w.get(1).contains("setting deprecated feature gate KMSv1=false"), w.get(1));
        assertTrue(w.get(2).contains("PreferSameTrafficDistribution=false is not followed"), w.get(2));
        assertTrue(w.get(3).contains("no /flagz or /statusz"), w.get(3));
        assertEquals(List.of(), gates("--feature-gates=ContextualLogging=false").warnings(), "a beta gate with no effect: silent");
    }
}
