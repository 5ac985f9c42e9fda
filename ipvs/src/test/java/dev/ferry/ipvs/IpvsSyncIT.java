package dev.ferry.ipvs;

import dev.ferry.ipvs.uml.UmlGuest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link IpvsSync} on the real IPVS of a user-mode-linux kernel: a plan applied gives exactly the expected
 * `ipvsadm -Ln` (scheduler, persistence, masquerading, weights; a stale service on kube-ipvs0 deleted, a foreign
 * one untouched); a second apply changes nothing; a removed endpoint with an open TCP connection drains at weight 0
 * and goes once the connection is gone; a removed UDP endpoint goes at once; IPv4 and IPv6 syncs leave each other's services alone. The checks run inside the guest
 * ({@link IpvsSyncGuestChecks}); one boot serves them all.
 */
class IpvsSyncIT {

    private static final List<String> CHECKS = List.of("first-apply", "second-apply-changes-nothing",
            "drain-with-an-open-connection", "udp-goes-at-once", "foreign-untouched",
            "families-stay-apart");

    @BeforeEach
    void needsRoot() {
        String why = UmlGuest.unavailability();
        assumeTrue(why == null, why);
    }

    @Test
    void syncProgramsTheRealKernelAndDrainsGracefully() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        UmlGuest.Result r = UmlGuest.run(Duration.ofSeconds(240), List.of(List.of(java, "-cp",
                System.getProperty("java.class.path"), IpvsSyncGuestChecks.class.getName())));
        System.out.println(r.output()); // kept in the failsafe report: how long the drain took
        assertTrue(r.ok(), r::output);
        for (String check : CHECKS) {
            assertTrue(r.output().contains("ok " + check + "\n"), () -> "no \"ok " + check + "\" in:\n" + r.output());
        }
    }
}
