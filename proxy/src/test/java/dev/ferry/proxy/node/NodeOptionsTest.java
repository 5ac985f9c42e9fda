package dev.ferry.proxy.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node-level flags: upstream's names, defaults, syntax and ranges. */
class NodeOptionsTest {

    private static NodeOptions parse(String... args) {
        NodeOptions o = new NodeOptions();
        new CommandLine(o).parseArgs(args);
        return o;
    }

    @Test
    void defaultsAreUpstreams() {
        NodeOptions o = parse();
        assertEquals(new ConntrackSettings(32768, 131072, Duration.ofHours(24), Duration.ofHours(1), false, Duration.ZERO,
                Duration.ZERO), o.conntrack());
        assertEquals(-999, o.oomScoreAdj());
        assertFalse(o.initOnly());
        assertEquals(Duration.ofHours(24), o.tcpEstablishedTimeout());
    }

    @Test
    void everyFlagInUpstreamsSyntax() {
        NodeOptions o = parse("--conntrack-max-per-core=0", "--conntrack-min", "65536", "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=1m30s", "--conntrack-tcp-be-liberal", "--conntrack-udp-timeout=30s",
                "--conntrack-udp-timeout-stream=2m", "--oom-score-adj=1000", "--init-only=true");
        assertEquals(new ConntrackSettings(0, 65536, Duration.ZERO, Duration.ofSeconds(90), true, Duration.ofSeconds(30),
                Duration.ofMinutes(2)), o.conntrack());
        assertEquals(1000, o.oomScoreAdj());
        assertTrue(o.initOnly());
        assertFalse(parse("--conntrack-tcp-be-liberal=false").conntrack().tcpBeLiberal());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "--oom-score-adj=-1001            | must be within the range [-1000, 1000]",
            "--oom-score-adj=1001             | must be within the range [-1000, 1000]",
            "--conntrack-max-per-core=-1      | must be greater than or equal to 0",
            "--conntrack-min=-5               | must be greater than or equal to 0",
            "--conntrack-min=4294967296       | is not an integer",
            "--conntrack-udp-timeout=-1s      | is negative",
            "--conntrack-tcp-be-liberal=maybe | is not a boolean"})
    void badValuesAreRefusedNamingTheFlag(String arg, String why) {
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> parse(arg.trim()));
        String flag = arg.trim().substring(0, arg.trim().indexOf('='));
        assertTrue(e.getMessage().contains(flag) && e.getMessage().contains(why.trim()), e.getMessage());
    }
}
