package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Assumptions;

import java.util.List;

/** The gate for tests that need root: they skip, saying why, anywhere else. */
final class Privileged {
    private Privileged() {
    }

    static void assumeRootWithTools() {
        String uid = Proc.run(List.of("id", "-u")).out().strip();
        Assumptions.assumeTrue("0".equals(uid),
                "end-to-end tests create network namespaces and program iptables: they need root (uid is " + uid + ")");
        for (String tool : List.of("ip", "iptables-save", "iptables-restore", "conntrack", "socat", "nft")) {
            if (!Proc.run(List.of("sh", "-c", "command -v " + tool)).ok()) {
                throw new AssertionError("root but " + tool + " is missing: .ci/run installs it (iptables, nftables, conntrack, iproute2, socat)");
            }
        }
    }
}
