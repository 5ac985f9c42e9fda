package dev.ferry.proxy.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Upstream's arithmetic (getConntrackMax) and its rules on which sysctls are written. */
class ConntrackSettingsTest {

    static ConntrackSettings defaults() {
        return new ConntrackSettings(32768, 131072, Duration.ofHours(24), Duration.ofHours(1), false, Duration.ZERO,
                Duration.ZERO);
    }

    static ConntrackSettings sized(int perCore, int min) {
        return new ConntrackSettings(perCore, min, Duration.ZERO, Duration.ZERO, false, Duration.ZERO, Duration.ZERO);
    }

    @ParameterizedTest(name = "{0} per core x {2} CPUs, min {1}: {3}")
    @CsvSource({
            "32768, 131072, 1, 131072",       // small machines get the minimum
            "32768, 131072, 4, 131072",       // 4 x 32768 is the minimum exactly
            "32768, 131072, 5, 163840",       // above it, per core x CPUs
            "32768, 131072, 64, 2097152",     // v1.34 has no cap (v1.36 caps at 1,048,576)
            "32768, 0, 2, 65536",             // no minimum
            "0, 131072, 64, 0",               // 0 per core leaves the limit alone, whatever the minimum
            "2147483647, 0, 1024, 2199023254528"}) // no int overflow
    void maxIsPerCoreTimesCpusAtLeastTheMinimum(int perCore, int min, int cpus, long expected) {
        assertEquals(expected, sized(perCore, min).max(cpus));
    }

    @Test
    void upstreamsDefaultsWriteTheTwoTcpTimeoutsOnly() {
        assertEquals(List.of(
                        new ConntrackSettings.Target("net/netfilter/nf_conntrack_tcp_timeout_established", 86400,
                                "--conntrack-tcp-timeout-established"),
                        new ConntrackSettings.Target("net/netfilter/nf_conntrack_tcp_timeout_close_wait", 3600,
                                "--conntrack-tcp-timeout-close-wait")),
                defaults().others());
    }

    @Test
    void everyOtherSettingInUpstreamsOrderWhenAskedFor() {
        ConntrackSettings all = new ConntrackSettings(0, 0, Duration.ofMinutes(10), Duration.ofSeconds(90), true,
                Duration.ofSeconds(45), Duration.ofMinutes(3));
        assertEquals(List.of("nf_conntrack_tcp_timeout_established=600", "nf_conntrack_tcp_timeout_close_wait=90",
                        "nf_conntrack_tcp_be_liberal=1", "nf_conntrack_udp_timeout=45", "nf_conntrack_udp_timeout_stream=180"),
                all.others().stream().map(t -> t.sysctl().substring("net/netfilter/".length()) + "=" + t.value()).toList());
    }

    @Test
    void zeroTimeoutsAndBeLiberalFalseLeaveTheKernelsValues() {
        assertEquals(List.of(), sized(32768, 131072).others());
    }

    @Test
    void aTimeoutIsWholeSecondsTruncatedAsUpstreamDoes() {
        ConntrackSettings s = new ConntrackSettings(0, 0, Duration.ofMillis(1999), Duration.ofMillis(500), false,
                Duration.ZERO, Duration.ZERO);
        // upstream: int(d / time.Second) for any d > 0, so 500ms writes 0
        assertEquals(List.of(1L, 0L), s.others().stream().map(ConntrackSettings.Target::value).toList());
    }

    @Test
    void negativeValuesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> sized(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ConntrackSettings(0, 0, Duration.ofSeconds(-1),
                Duration.ZERO, false, Duration.ZERO, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> defaults().max(0));
    }
}
