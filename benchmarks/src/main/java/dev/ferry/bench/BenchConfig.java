package dev.ferry.bench;

import dev.ferry.core.Cidr;
import dev.ferry.iptables.IptablesConfig;

import java.util.List;

/** The proxy settings every benchmark uses: upstream's defaults plus a cluster CIDR. */
final class BenchConfig {

    private BenchConfig() {
    }

    /** With a cluster CIDR each Service gets its masquerade rule, as on a typical cluster. */
    static IptablesConfig iptables() {
        return IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("10.0.0.0/8")));
    }
}
