package dev.ferry.iptables;

import dev.ferry.core.IpFamily;
import dev.ferry.mode.FamilyBackend;
import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.ModeContext;
import dev.ferry.mode.ModeOptions;
import dev.ferry.mode.ModeRuntime;
import dev.ferry.netfilter.Iptables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * iptables mode's own flag (the shared --iptables-* flags are the node's network settings), and its
 * backends: IPv4, plus IPv6 for a dual-stack or IPv6 cluster where ip6tables works.
 */
final class IptablesModeOptions implements ModeOptions {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesModeOptions.class);

    static final String LOCALHOST_NODEPORTS = "--iptables-localhost-nodeports";

    @Option(names = LOCALHOST_NODEPORTS, arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            defaultValue = "true", converter = FlagConverters.BoolConverter.class,
            description = "iptables mode: NodePorts answer on 127.0.0.1 too (IPv4). Default: ${DEFAULT-VALUE}.")
    boolean localhostNodePorts;

    @Override
    public ModeRuntime start(ModeContext context) {
        return new ModeRuntime(backends(context, context.families(), context.leftovers()), new IptablesMetrics());
    }

    @Override
    public List<FamilyBackend> cleanup(ModeContext context) {
        return backends(context, Set.of(IpFamily.IPV4, IpFamily.IPV6), chain -> false);
    }

    private List<FamilyBackend> backends(ModeContext context, Set<IpFamily> families, Predicate<String> leftovers) {
        IptablesConfig config = new IptablesConfig(context.network(), localhostNodePorts);
        List<FamilyBackend> out = new ArrayList<>();
        for (IpFamily family : List.of(IpFamily.IPV4, IpFamily.IPV6)) {
            if (family == IpFamily.IPV6) { // IPv4 always runs, as upstream's primary family without a cluster CIDR
                if (!families.contains(family)) {
                    continue;
                }
                String why = new Iptables(family, context.commands()).unusable();
                if (why != null) {
                    LOG.warn("ip6tables is not usable on this machine ({}); programming IPv4 only", why);
                    continue;
                }
            }
            IptablesBackend backend = IptablesBackend.builder(family, config, context.commands()).leftovers(leftovers).build();
            out.add(FamilyBackend.of(IptablesMode.NAME, family, backend));
        }
        return out;
    }
}
