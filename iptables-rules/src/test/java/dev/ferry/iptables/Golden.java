package dev.ferry.iptables;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Compares restore payloads the way upstream's assertIPTablesRulesEqual does: per table, the
 * set of declared chains and, per chain, its rules in order (the interleaving of different
 * chains' lines is free in iptables-restore input).
 */
public final class Golden {

    private Golden() {
    }

    public static String normalize(String payload) {
        Map<String, TreeSet<String>> declared = new LinkedHashMap<>();
        Map<String, TreeMap<String, List<String>>> rules = new LinkedHashMap<>();
        String table = null;
        for (String line : payload.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#") || line.equals("COMMIT")) {
                continue;
            }
            if (line.startsWith("*")) {
                table = line.substring(1);
                declared.putIfAbsent(table, new TreeSet<>());
                rules.putIfAbsent(table, new TreeMap<>());
            } else if (line.startsWith(":")) {
                declared.get(table).add(line.substring(1, line.indexOf(' ')));
            } else {
                String[] words = line.split(" ", 3);
                rules.get(table).computeIfAbsent(words[1], k -> new ArrayList<>()).add(line);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String t : new TreeSet<>(declared.keySet())) {
            sb.append('*').append(t).append('\n');
            declared.get(t).forEach(c -> sb.append(':').append(c).append('\n'));
            rules.get(t).forEach((c, lines) -> lines.forEach(l -> sb.append(l).append('\n')));
        }
        return sb.toString();
    }

    static void assertSameRules(String expected, String actual) {
        assertEquals(normalize(expected), normalize(actual));
    }
}
