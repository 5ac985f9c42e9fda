package dev.ferry.iptables;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.netfilter.NetNamespace;
import dev.ferry.netfilter.Sysctls;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/** Backends for tests: never touch the test machine's own kernel settings. */
public final class TestBackends {

    private TestBackends() {
    }

    /** Kernel settings kept in a map; what the backend wrote can be read back. */
    public static final class FakeSysctls implements Sysctls {
        public final Map<String, Long> values = new HashMap<>();

        @Override
        public OptionalLong read(String name) {
            Long v = values.get(name);
            return v == null ? OptionalLong.empty() : OptionalLong.of(v);
        }

        @Override
        public void write(String name, long value) {
            values.put(name, value);
        }
    }

    /** For a fake kernel: fake sysctls, upstream's test node addresses. */
    public static IptablesBackend of(IpFamily family, IptablesConfig config, CommandRunner runner) {
        return builder(family, config, runner).build();
    }

    public static IptablesBackend.Builder builder(IpFamily family, IptablesConfig config, CommandRunner runner) {
        return IptablesBackend.builder(family, config, runner).sysctls(new FakeSysctls())
                .localAddresses(LocalAddresses.of(Flows.NODE_IPS.stream().map(IpAddresses::parse).toList()));
    }

    /** For a network namespace: its own sysctls through `ip netns exec NS sysctl`. */
    public static IptablesBackend.Builder inNamespace(NetNamespace ns, IpFamily family, IptablesConfig config,
                                               CommandRunner runner) {
        return IptablesBackend.builder(family, config, runner).sysctls(Sysctls.viaCommands(ns.runner))
                .localAddresses(LocalAddresses.of(List.of()));
    }
}
