package dev.ferry.proxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * --detect-local-mode=NodeCIDR with the Node watched on the API server (fabric8's mock server), as
 * a real install has it: the same life cycle as {@link LocalTrafficDetectionIT}'s file-source case.
 */
class LocalTrafficDetectionApiIT {

    @RegisterExtension
    final NodeFixture fx = NodeFixture.api(2);

    @Test
    void nodeCidrWaitsForThePodCidrsUsesThemAndExitsWhenTheyChange() {
        LocalTrafficDetectionIT.nodeCidrLifeCycle(fx);
    }
}
