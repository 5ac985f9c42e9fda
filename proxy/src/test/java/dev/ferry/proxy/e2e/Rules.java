package dev.ferry.proxy.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading {@code iptables-save} output: ours (KUBE-*) versus everyone else's. */
final class Rules {
    private static final Pattern COUNTERS = Pattern.compile("\\[\\d+:\\d+]");
    private static final Pattern SEP_JUMP = Pattern.compile("-j (KUBE-SEP-[A-Z0-9]+)");

    private Rules() {
    }

    /** Every rule and chain line as {@code table: line}, comments dropped, counters zeroed. */
    static List<String> lines(String save) {
        List<String> result = new ArrayList<>();
        String table = "?";
        for (String raw : save.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.equals("COMMIT")) {
                continue;
            }
            if (line.startsWith("*")) {
                table = line.substring(1);
                continue;
            }
            result.add(table + ": " + COUNTERS.matcher(line).replaceAll("[0:0]"));
        }
        return result;
    }

    /**
     * Rules and user chains that are not ours, in order: what must survive every sync and cleanup.
     * Built-in chain headers are left out (a table we create appears with its built-in chains).
     */
    static List<String> foreign(String save) {
        return lines(save).stream()
                .filter(l -> !l.contains("KUBE-"))
                .filter(l -> l.contains(": -A ") || l.matches("\\S+: :\\S+ - .*"))
                .toList();
    }

    /** Every line that mentions one of our chains. */
    static List<String> kube(String save) {
        return lines(save).stream().filter(l -> l.contains("KUBE-")).toList();
    }

    /** Our lines as one block for failure messages. */
    static String kubeExcerpt(String save) {
        List<String> kube = kube(save);
        return kube.isEmpty() ? "(no KUBE-* lines)" : String.join("\n", kube);
    }

    /** The KUBE-SEP chain the Service chains send {@code ip:port} to, if any. */
    static Optional<String> sepChainFor(String save, String ipPort) {
        for (String line : lines(save)) {
            if (line.contains("-> " + ipPort + "\"") || line.contains("-> " + ipPort + " ")) {
                Matcher m = SEP_JUMP.matcher(line);
                if (m.find()) {
                    return Optional.of(m.group(1));
                }
            }
        }
        return Optional.empty();
    }

    /** Whether a DNAT to {@code ip:port} is programmed. */
    static boolean dnatsTo(String save, String ipPort) {
        return lines(save).stream().anyMatch(l -> l.contains("--to-destination " + ipPort));
    }

    /** Whether the nat table sends {@code clusterIp:port} anywhere (a KUBE-SERVICES rule for it). */
    static boolean servesClusterIp(String save, String clusterIp, int port) {
        return lines(save).stream().anyMatch(l -> l.startsWith("nat: -A KUBE-SERVICES ")
                && l.contains("-d " + clusterIp + "/32") && l.contains("--dport " + port + " ")
                && l.contains("-j KUBE-SVC-"));
    }

    /** Whether the filter table rejects {@code clusterIp:port} (a Service without endpoints). */
    static boolean rejectsClusterIp(String save, String clusterIp, int port) {
        return lines(save).stream().anyMatch(l -> l.startsWith("filter: -A KUBE-SERVICES ")
                && l.contains("-d " + clusterIp + "/32") && l.contains("--dport " + port + " ")
                && l.contains("-j REJECT"));
    }
}
