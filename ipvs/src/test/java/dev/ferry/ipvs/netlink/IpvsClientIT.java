package dev.ferry.ipvs.netlink;

import dev.ferry.ipvs.uml.UmlGuest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link IpvsClient} on the real IPVS of a user-mode-linux kernel: what we add, update and delete is what ipvsadm
 * shows; what ipvsadm adds is what we list; flush empties; timeouts round-trip; errors name the object; real
 * connections show in the counts we read back; a client
 * opened for another namespace works on that namespace's table. The checks run inside the guest
 * ({@link IpvsClientGuestChecks}); one boot serves them all.
 */
class IpvsClientIT {

    /** What {@link IpvsClientGuestChecks} prints as "ok NAME", in order. */
    private static final List<String> CHECKS = List.of("our-adds-are-what-ipvsadm-shows",
            "our-updates-are-what-ipvsadm-shows", "our-deletes-are-what-ipvsadm-shows", "ipvsadm-adds-are-what-we-list",
            "errors-name-the-object", "flush-empties-the-table", "timeouts-round-trip", "connection-counts",
            "another-namespace");

    @BeforeEach
    void needsRoot() {
        String why = UmlGuest.unavailability();
        assumeTrue(why == null, why);
    }

    @Test
    void clientAgreesWithIpvsadmOnTheRealKernel() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        UmlGuest.Result r = UmlGuest.run(Duration.ofSeconds(180), List.of(List.of(java, "-cp",
                System.getProperty("java.class.path"), "dev.ferry.ipvs.netlink.IpvsClientGuestChecks")));
        assertTrue(r.ok(), r::output);
        for (String check : CHECKS) {
            assertTrue(r.output().contains("ok " + check + "\n"), () -> "no \"ok " + check + "\" in:\n" + r.output());
        }
    }
}
