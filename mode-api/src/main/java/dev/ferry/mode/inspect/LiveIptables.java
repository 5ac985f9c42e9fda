package dev.ferry.mode.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.core.ServicePortName;
import dev.ferry.netfilter.IptablesDump;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The live node's iptables rules as the modes that program iptables show them: read once per
 * family for one report (a failed read is remembered and reported the same way each time), a
 * service port's rules picked out, and a packet traced through them (a trace reads the rules afresh).
 *
 * <p>Not thread-safe: one report, one thread.
 */
public final class LiveIptables {

    private final LiveNode node;
    private final Map<IpFamily, Object> dumps = new EnumMap<>(IpFamily.class); // IptablesDump or IOException

    public LiveIptables(LiveNode node) {
        this.node = Objects.requireNonNull(node, "node");
    }

    /** The family's tables, parsed (read at the first call). */
    public IptablesDump dump(IpFamily family) throws IOException {
        Object d = dumps.computeIfAbsent(family, f -> {
            try {
                return IptablesDump.parse(node.iptablesSave(f));
            } catch (IOException e) {
                return e;
            } catch (IllegalArgumentException e) {
                return new IOException("cannot parse " + f.iptables() + "-save output: " + e.getMessage(), e);
            }
        });
        if (d instanceof IOException e) {
            throw e;
        }
        return (IptablesDump) d;
    }

    /** Whether the family's nat table has {@code chain}. */
    public boolean natHas(IpFamily family, String chain) throws IOException {
        return dump(family).table("nat").has(chain);
    }

    /**
     * Every rule of the port in nat and filter, keyed "table chain": the rules elsewhere whose
     * comment names it, then the rules of its own chains in the order given (a packet meets them
     * in that order).
     */
    public static Map<String, List<String>> rulesFor(IptablesDump dump, ServicePortName name,
                                                     Collection<String> ownChains) {
        String text = name.toString();
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String tableName : List.of("nat", "filter")) {
            IptablesDump.Table table = dump.table(tableName);
            for (IptablesDump.Chain chain : table.chains().values()) {
                if (ownChains.contains(chain.name())) {
                    continue;
                }
                for (IptablesDump.Rule rule : chain.rules()) {
                    String comment = rule.comment();
                    if (comment.equals(text) || comment.startsWith(text + " ")) {
                        out.computeIfAbsent(tableName + " " + chain.name(), k -> new ArrayList<>()).add(rule.text());
                    }
                }
            }
            for (String chainName : ownChains) {
                table.chain(chainName).ifPresent(chain -> {
                    List<String> lines = out.computeIfAbsent(tableName + " " + chainName, k -> new ArrayList<>());
                    chain.rules().forEach(r -> lines.add(r.text()));
                });
            }
        }
        return out;
    }

    /** {@link #rulesFor} as indented lines, or why there is nothing to show. */
    public String details(IpFamily family, ServicePortName name, Collection<String> ownChains) {
        IptablesDump dump;
        try {
            dump = dump(family);
        } catch (IOException e) {
            return "    cannot read: " + e.getMessage() + "\n";
        }
        Map<String, List<String>> rules = rulesFor(dump, name, ownChains);
        if (rules.isEmpty()) {
            return "    nothing: no chain or rule of " + name + "\n";
        }
        StringBuilder sb = new StringBuilder();
        rules.forEach((where, lines) -> {
            sb.append("    ").append(where).append('\n');
            lines.forEach(l -> sb.append("      ").append(l).append('\n'));
        });
        return sb.toString();
    }

    /** The packet through the family's live nat and filter rules ({@link IptablesTrace}). */
    public String trace(TraceRequest request, long masqueradeMark) throws IOException {
        IptablesDump dump = IptablesDump.parse(node.iptablesSave(request.family()));
        return IptablesTrace.render(request, dump, node.localAddresses(), masqueradeMark,
                ip -> node.routeInterface(ip).orElse(null));
    }
}
