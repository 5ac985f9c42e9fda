package dev.ferry.iptables;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** iptables mode's own flag, parsed as the proxy's command line parses it. */
class IptablesModeOptionsTest {

    static IptablesModeOptions parse(String... args) {
        IptablesModeOptions o = new IptablesModeOptions();
        new CommandLine(o).parseArgs(args);
        return o;
    }

    @Test
    void localhostNodePortsDefaultsOnAndTakesGoBooleans() {
        assertTrue(parse().localhostNodePorts);
        assertFalse(parse("--iptables-localhost-nodeports=false").localhostNodePorts);
        assertFalse(parse("--iptables-localhost-nodeports=F").localhostNodePorts);
        assertTrue(parse("--iptables-localhost-nodeports").localhostNodePorts);
    }
}
