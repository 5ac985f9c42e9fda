package dev.ferry.proxy;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.proxy.source.Hostnames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProxyOptionsTest {

    static ProxyOptions parse(String... args) {
        ProxyOptions o = new ProxyOptions();
        o.parse(args);
        o.validate();
        return o;
    }

    /** Runs Main in-process; returns exit status and what went to stderr. */
    record Run(int status, String out, String err) {
    }

    static Run main(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new CountDownLatch(1));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void defaultsAreUpstreams() {
        ProxyOptions o = parse();
        assertEquals("iptables", o.mode().name());
        assertEquals(14, o.masqueradeBit);
        assertEquals(Duration.ofSeconds(30), o.syncPeriod);
        assertEquals(Duration.ofSeconds(1), o.minSyncPeriod);
        assertFalse(o.masqueradeAll);
        assertEquals("0.0.0.0:10256", o.healthzBindAddress.toString());
        assertEquals("127.0.0.1:10249", o.metricsBindAddress.toString());
        assertEquals(List.of(), o.clusterCidrs);
        assertEquals(List.of(), o.nodePortAddresses);
        assertEquals(Set.of(IpFamily.IPV4), o.clusterFamilies());
        assertEquals(0, o.logging.verbosity());
        assertFalse(o.once || o.dryRun || o.cleanup);
        assertEquals(Hostnames.local().trim().toLowerCase(java.util.Locale.ROOT), o.hostname());
    }

    @Test
    void takesBothValueSyntaxes() {
        ProxyOptions a = parse("--iptables-masquerade-bit=5", "--hostname-override", "Node-A ", "--manifests=.",
                "--iptables-sync-period", "1m30s", "--iptables-min-sync-period=500ms", "--master=https://10.0.0.1:6443",
                "--kubeconfig", "pom.xml", "--proxy-mode=iptables");
        assertEquals(5, a.masqueradeBit);
        assertEquals("node-a", a.hostname(), "trimmed and lower-cased as upstream");
        assertEquals(Path.of("."), a.manifests);
        assertEquals(Duration.ofSeconds(90), a.syncPeriod);
        assertEquals(Duration.ofMillis(500), a.minSyncPeriod);
        assertEquals("https://10.0.0.1:6443", a.master);
        assertEquals(Path.of("pom.xml"), a.kubeconfig);
    }

    @Test
    void booleansStandAloneOrTakeAValue() {
        ProxyOptions on = parse("--masquerade-all", "--once", "--dry-run", "--cleanup");
        assertTrue(on.masqueradeAll && on.once && on.dryRun && on.cleanup);
        ProxyOptions off = parse("--masquerade-all=false", "--iptables-localhost-nodeports=false", "--once=false");
        assertFalse(off.masqueradeAll || off.once);
        ProxyOptions goStyle = parse("--masquerade-all=1", "--iptables-localhost-nodeports=F", "--dry-run=True");
        assertTrue(goStyle.masqueradeAll && goStyle.dryRun);
    }

    @Test
    void listsAreCommaSeparated() {
        ProxyOptions o = parse("--cluster-cidr=10.244.0.0/16,fd00:10:244::/56", "--nodeport-addresses", "10.0.0.0/8,primary,fd00::1/128");
        assertEquals(List.of(Cidr.parse("10.244.0.0/16"), Cidr.parse("fd00:10:244::/56")), o.clusterCidrs);
        assertEquals(Set.of(IpFamily.IPV4, IpFamily.IPV6), o.clusterFamilies());
        assertEquals(List.of("10.0.0.0/8", "primary", "fd00::1/128"), o.nodePortAddresses);
        assertEquals(Set.of(IpFamily.IPV6), parse("--cluster-cidr=fd00::/48").clusterFamilies());
    }

    @Test
    void verbosityTakesEveryUpstreamSpelling() {
        assertEquals(4, parse("-v=4").logging.verbosity());
        assertEquals(3, parse("-v", "3").logging.verbosity());
        assertEquals(2, parse("--v=2").logging.verbosity());
        assertEquals(5, parse("--v", "5").logging.verbosity());
        assertEquals(6, parse("-v6").logging.verbosity());
    }

    @Test
    void bindAddressesTakeIpv6InBracketsOrEmptyToDisable() {
        ProxyOptions o = parse("--healthz-bind-address=[::]:10256", "--metrics-bind-address=");
        assertEquals("[::]:10256", o.healthzBindAddress.toString());
        assertNull(o.metricsBindAddress);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--iptables-sync-period=30       | --iptables-sync-period  | missing a unit",
            "--iptables-sync-period=1x       | --iptables-sync-period  | unknown unit",
            "--iptables-sync-period=-1s      | --iptables-sync-period  | negative",
            "--iptables-sync-period=0s       | --iptables-sync-period  | greater than 0",
            "--iptables-min-sync-period=1m   | --iptables-min-sync-period | exceeds --iptables-sync-period 30s",
            "--iptables-masquerade-bit=32    | --iptables-masquerade-bit | out of range 0..31",
            "--iptables-masquerade-bit=x     | --iptables-masquerade-bit | not an integer",
            "--masquerade-all=maybe          | --masquerade-all | not a boolean",
            "--cluster-cidr=10.0.0.0/33      | --cluster-cidr | exceeds 32",
            "--cluster-cidr=10.0.0.0/8,11.0.0.0/8 | --cluster-cidr | at most one CIDR per IP family",
            "--nodeport-addresses=10.0.0.1   | --nodeport-addresses | neither a CIDR nor \"primary\"",
            "--healthz-bind-address=localhost | --healthz-bind-address | not ip:port",
            "--metrics-bind-address=1.2.3.4:99999 | --metrics-bind-address | port must be a number",
            "--healthz-bind-address=:::10256 | --healthz-bind-address | needs brackets",
            "--proxy-mode=nftables           | --proxy-mode | not a proxy mode",
            "--proxy-mode=ipvs               | --dry-run | not available with --proxy-mode=ipvs",
            "--ipvs-scheduler=fifo           | --ipvs-scheduler | not an IPVS scheduler",
            "--ipvs-sync-period=0s           | --ipvs-sync-period | greater than 0",
            "--ipvs-min-sync-period=1m       | --ipvs-min-sync-period | exceeds --ipvs-sync-period 30s",
            "--ipvs-exclude-cidrs=10.0.0.0/40 | --ipvs-exclude-cidrs | exceeds 32",
            "--ipvs-strict-arp=sometimes     | --ipvs-strict-arp | not a boolean",
            "--ipvs-tcp-timeout=-1s          | --ipvs-tcp-timeout | negative",
            "--ipvs-tcpfin-timeout=5         | --ipvs-tcpfin-timeout | missing a unit",
            "--ipvs-udp-timeout=1x           | --ipvs-udp-timeout | unknown unit",
            "--proxy-port-range=200-100      | --proxy-port-range | not a port range",
            "--udp-timeout=0s                | --udp-timeout | greater than 0",
            "--bind-address=10.0.0           | --bind-address | 10.0.0",
            "--manifests=/nonexistent/dir    | --manifests | not a directory",
            "--no-such-flag                  | --no-such-flag | Unknown option",
            "-v=-1                           | -v | negative",
    })
    void badValuesExitWithStatus2NamingTheFlag(String arg, String flag, String why) {
        Run r = main(arg.trim(), "--dry-run", "--once", "--manifests=../examples/manifests");
        if (arg.startsWith("--manifests")) {
            r = main("--dry-run", "--once", arg.trim());
        }
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains(flag.trim()), "names " + flag + ": " + r.err());
        assertTrue(r.err().contains(why.trim()), "says " + why + ": " + r.err());
        assertEquals("", r.out());
    }

    @Test
    void theModesSyncPeriodsAreItsOwnOrTheShared() {
        ProxyOptions o = parse();
        assertEquals(Duration.ofSeconds(30), o.syncPeriods().max());
        assertEquals(Duration.ofSeconds(1), o.syncPeriods().min(), "iptables mode keeps --iptables-min-sync-period");
        ProxyOptions ipvs = parse("--proxy-mode=ipvs", "--ipvs-sync-period=10s", "--ipvs-min-sync-period=2s");
        assertEquals("ipvs", ipvs.mode().name());
        assertEquals(Duration.ofSeconds(10), ipvs.syncPeriods().max());
        assertEquals(Duration.ofSeconds(2), ipvs.syncPeriods().min());
    }

    @Test
    void helpListsTheFlags() {
        Run r = main("--help");
        assertEquals(0, r.status());
        for (String flag : List.of("--proxy-mode", "--kubeconfig", "--master", "--hostname-override", "--cluster-cidr",
                "--masquerade-all", "--iptables-masquerade-bit", "--iptables-sync-period", "--iptables-min-sync-period",
                "--nodeport-addresses", "--iptables-localhost-nodeports", "--healthz-bind-address",
                "--metrics-bind-address", "--cleanup", "--manifests", "--once", "--dry-run", "--v", "--ipvs-scheduler",
                "--ipvs-sync-period", "--ipvs-min-sync-period", "--ipvs-exclude-cidrs", "--ipvs-strict-arp",
                "--ipvs-tcp-timeout", "--ipvs-tcpfin-timeout", "--ipvs-udp-timeout")) {
            assertTrue(r.out().contains(flag), flag + " in " + r.out());
        }
    }
}
