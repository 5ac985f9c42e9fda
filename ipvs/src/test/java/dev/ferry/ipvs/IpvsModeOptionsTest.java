package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.ipvs.netlink.IpvsTimeouts;
import dev.ferry.mode.FlagNames;
import dev.ferry.mode.ModeContext;
import dev.ferry.netfilter.CommandRunners;
import dev.ferry.netfilter.NetworkSettings;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ipvs mode's flags, parsed as the proxy's command line parses them (the proxy's own tests cover bad values). */
class IpvsModeOptionsTest {

    static IpvsModeOptions parse(String... args) {
        IpvsModeOptions o = new IpvsModeOptions();
        new CommandLine(o).parseArgs(args);
        o.validate(FlagNames.AS_GIVEN);
        return o;
    }

    private static IpvsConfig config(IpvsModeOptions o) {
        return o.config(new ModeContext(Set.of(IpFamily.IPV4), NetworkSettings.defaults(),
                CommandRunners.dryRun(new PrintStream(OutputStream.nullOutputStream())), chain -> false, Duration.ZERO));
    }

    @Test
    void ipvsDefaultsAreUpstreams() {
        IpvsModeOptions o = parse();
        assertEquals("", o.scheduler);
        assertEquals(Duration.ofSeconds(30), o.syncPeriod);
        assertEquals(Duration.ZERO, o.minSyncPeriod);
        assertEquals(List.of(), o.excludeCidrs);
        assertFalse(o.strictArp);
        assertEquals(IpvsTimeouts.ofSeconds(0, 0, 0), o.timeouts());
        assertEquals(Duration.ofSeconds(30), o.syncPeriods().orElseThrow().max());
    }

    @Test
    void ipvsFlagsTakeUpstreamsSyntax() {
        IpvsModeOptions o = parse("--ipvs-scheduler=lc", "--ipvs-exclude-cidrs=10.0.0.0/8,fd00::/64",
                "--ipvs-strict-arp", "--ipvs-tcp-timeout=15m", "--ipvs-tcpfin-timeout", "30s",
                "--ipvs-udp-timeout=1m500ms", "--ipvs-sync-period=10s", "--ipvs-min-sync-period=2s");
        assertEquals("lc", o.scheduler);
        assertEquals(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/64")), o.excludeCidrs);
        assertTrue(o.strictArp);
        // upstream passes int(d.Seconds()): sub-second parts are dropped
        assertEquals(IpvsTimeouts.ofSeconds(900, 30, 60), o.timeouts());
        assertEquals(Duration.ofSeconds(10), o.syncPeriods().orElseThrow().max());
        assertEquals(Duration.ofSeconds(2), o.syncPeriods().orElseThrow().min());
        IpvsConfig ipvs = config(o);
        assertEquals("lc", ipvs.scheduler());
        assertTrue(ipvs.strictArp());
        assertFalse(parse("--ipvs-strict-arp=false").strictArp);
        assertEquals("", parse("--ipvs-scheduler=").scheduler);
    }
}
