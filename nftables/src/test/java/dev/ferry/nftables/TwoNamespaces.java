package dev.ferry.nftables;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

import java.io.IOException;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A privileged test with two fresh network namespaces: {@link #ours}, programmed through our client,
 * and {@link #nfts}, programmed with {@code nft -f}, to compare {@code nft list} of the two.
 */
@Tag("privileged")
abstract class TwoNamespaces {

    TestNamespace ours;
    TestNamespace nfts;

    @BeforeEach
    void namespaces() throws IOException {
        assumeTrue(TestNamespace.isRoot(), "needs root to create network namespaces and program nf_tables");
        ours = new TestNamespace();
        nfts = new TestNamespace();
    }

    @AfterEach
    void deleteNamespaces() throws IOException {
        if (ours != null) {
            ours.close();
        }
        if (nfts != null) {
            nfts.close();
        }
    }
}
