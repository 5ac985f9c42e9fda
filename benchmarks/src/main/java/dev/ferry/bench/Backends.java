package dev.ferry.bench;

import dev.ferry.core.IpFamily;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.Sysctls;

import java.time.Duration;
import java.util.OptionalLong;

/** IPv4 iptables backends as the benchmarks build them, with {@link BenchConfig}'s settings. */
final class Backends {

    /** Kernel settings for in-process runs: none set, nothing written (the host is never touched). */
    private static final Sysctls NONE = new Sysctls() {
        @Override
        public OptionalLong read(String name) {
            return OptionalLong.empty();
        }

        @Override
        public void write(String name, long value) {
        }
    };

    private Backends() {
    }

    /** Over a {@link CannedKernel} (or any runner that is not a real node). */
    static IptablesBackend inProcess(CommandRunner runner) {
        return IptablesBackend.builder(IpFamily.IPV4, BenchConfig.iptables(), runner).sysctls(NONE).build();
    }

    /**
     * Over a canned kernel, every sync a full one (the periodic full sync made due at once), so
     * one long-lived backend keeps its buffers between full syncs as the proxy's does.
     */
    static IptablesBackend inProcessAlwaysFull(CommandRunner runner) {
        return IptablesBackend.builder(IpFamily.IPV4, BenchConfig.iptables(), runner).sysctls(NONE)
                .fullSyncPeriod(Duration.ofNanos(1)).build();
    }

    /** Programming a network namespace: its sysctls are read and set through the same runner. */
    static IptablesBackend inNamespace(CommandRunner runner) {
        return IptablesBackend.builder(IpFamily.IPV4, BenchConfig.iptables(), runner)
                .sysctls(Sysctls.viaCommands(runner)).build();
    }
}
