package dev.ferry.ipvs.uml;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The harness itself, on the real user-mode-linux kernel: IPVS and dummy links work in the guest, and so does our JVM. */
class UmlGuestIT {

    private static final Duration BOOT = Duration.ofSeconds(90);

    @BeforeEach
    void needsRoot() {
        String why = UmlGuest.unavailability();
        assumeTrue(why == null, why);
    }

    @Test
    void guestKernelHasIpvsAndDummyLinks() {
        UmlGuest.Result r = UmlGuest.run(BOOT, List.of(
                List.of("ipvsadm", "-A", "-t", "10.96.0.10:80", "-s", "rr"),
                List.of("ipvsadm", "-a", "-t", "10.96.0.10:80", "-r", "10.244.1.5:8080", "-m"),
                List.of("ipvsadm", "-Ln"),
                List.of("ip", "link", "add", "kube-ipvs0", "type", "dummy"),
                List.of("ip", "-br", "link", "show", "kube-ipvs0")));
        assertTrue(r.ok(), r::output);
        assertTrue(r.output().contains("TCP  10.96.0.10:80 rr"), r::output);
        assertTrue(r.output().contains("-> 10.244.1.5:8080"), r::output);
        assertTrue(r.output().contains("kube-ipvs0"), r::output);
    }

    @Test
    void ourNetlinkStackTalksToIpvsInsideTheGuest() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        UmlGuest.Result r = UmlGuest.run(BOOT, List.of(List.of(java, "-cp", System.getProperty("java.class.path"),
                GuestProbe.class.getName())));
        assertTrue(r.ok(), r::output);
        assertTrue(r.output().matches("(?s).*IPVS family \\d+ version 1\\.2\\.1 table \\d+.*"), r::output);
    }

    @Test
    void aFailingCommandStopsTheRestAndGivesItsStatus() {
        UmlGuest.Result r = UmlGuest.run(BOOT, List.of(List.of("false"), List.of("echo", "not reached")));
        assertTrue(!r.ok(), r::output);
        assertTrue(!r.output().contains("not reached"), r::output);
    }
}
