package dev.ferry.netfilter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Tables, chains and rules as iptables-save prints them (or as iptables-restore input writes
 * them: ":CHAIN" declares or flushes, "-A" appends, "-I" inserts, "-X" deletes, so a restore
 * payload can be applied to a dump to predict the result). Immutable once built.
 */
public final class IptablesDump {

    /** Chains that exist in every table without being declared. */
    static final Map<String, List<String>> BUILT_IN = Map.of(
            "filter", List.of("INPUT", "FORWARD", "OUTPUT"),
            "nat", List.of("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
            "mangle", List.of("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
            "raw", List.of("PREROUTING", "OUTPUT"));

    private final Map<String, Table> tables;

    private IptablesDump(Map<String, Table> tables) {
        this.tables = tables;
    }

    public static IptablesDump empty() {
        return new IptablesDump(Map.of());
    }

    /**
     * Parses iptables-save output (any number of tables, e.g. the outputs of
     * {@code iptables-save -t nat} and {@code -t filter} concatenated).
     *
     * @throws IllegalArgumentException naming the line number when a line is not understood
     */
    public static IptablesDump parse(String text) {
        return empty().apply(text);
    }

    /**
     * What iptables-restore --noflush of {@code payload} would leave, starting from this dump.
     *
     * @throws IllegalArgumentException naming the line number when a line is not understood or
     *                                  refers to a chain that does not exist
     */
    public IptablesDump apply(String payload) {
        Builder b = new Builder(this);
        String[] lines = payload.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            b.line(lines[i].strip(), i + 1);
        }
        return b.build();
    }

    /** Which chains' rules a lean read keeps (the chain itself is always kept). */
    @FunctionalInterface
    public interface RuleFilter {
        boolean keepRules(String table, String chain);
    }

    /**
     * Reads iptables-save output as it streams in (one call per table), keeping every table
     * and chain but the rules of only the chains {@code filter} accepts: what a sync needs of a
     * big nat table is mostly chain names, and 300k tokenized rules would not fit its heap.
     * Not for a packet tracer: the dump lacks the skipped rules.
     */
    public static final class LeanReader {
        private final Builder builder = new Builder(empty());
        private final RuleFilter filter;
        private int number;
        private byte[] line = new byte[512];
        /** The chain of the last skipped rule, so a run of them costs no String each. */
        private byte[] skippedChain = new byte[0];
        private int skippedChainLength = -1;

        public LeanReader(RuleFilter filter) {
            this.filter = Objects.requireNonNull(filter, "filter");
        }

        /** Parses one output (any number of whole tables). */
        public void read(InputStream in) throws IOException {
            byte[] chunk = new byte[64 * 1024];
            int length = 0;
            int n;
            while ((n = in.read(chunk)) > 0) {
                int from = 0;
                for (int i = 0; i < n; i++) {
                    if (chunk[i] != '\n') {
                        continue;
                    }
                    length = append(chunk, from, i, length);
                    line(length);
                    length = 0;
                    from = i + 1;
                }
                length = append(chunk, from, n, length);
            }
            if (length > 0) {
                line(length);
            }
        }

        private int append(byte[] chunk, int from, int to, int length) {
            int n = to - from;
            if (length + n > line.length) {
                line = Arrays.copyOf(line, Math.max(line.length * 2, length + n));
            }
            System.arraycopy(chunk, from, line, length, n);
            return length + n;
        }

        public IptablesDump result() {
            return builder.build();
        }

        private void line(int length) {
            number++;
            // "-A CHAIN ...": skip without decoding when the chain's rules are not wanted.
            if (length > 3 && line[0] == '-' && line[1] == 'A' && line[2] == ' ' && builder.current != null) {
                int end = 3;
                while (end < length && line[end] != ' ') {
                    end++;
                }
                int nameLength = end - 3;
                if (nameLength == skippedChainLength
                        && Arrays.equals(line, 3, end, skippedChain, 0, nameLength)) {
                    return;
                }
                String chain = new String(line, 3, nameLength, StandardCharsets.UTF_8);
                if (!filter.keepRules(builder.table, chain)) {
                    if (!builder.current.containsKey(chain)) {
                        throw new IllegalArgumentException("line " + number + ": chain " + chain + " does not exist");
                    }
                    skippedChain = Arrays.copyOfRange(line, 3, end);
                    skippedChainLength = nameLength;
                    return;
                }
            }
            skippedChainLength = -1;
            builder.line(new String(line, 0, length, StandardCharsets.UTF_8).strip(), number);
        }
    }

    /** Applies restore/save lines one at a time to a mutable copy of a dump. */
    private static final class Builder {
        private final Map<String, Map<String, MutableChain>> work = new LinkedHashMap<>();
        private Map<String, MutableChain> current;
        private String table;

        Builder(IptablesDump from) {
            from.tables.forEach((name, t) -> {
                Map<String, MutableChain> chains = new LinkedHashMap<>();
                t.chains.forEach((cn, c) -> chains.put(cn, new MutableChain(c.name, c.policy, new ArrayList<>(c.rules))));
                work.put(name, chains);
            });
        }

        void line(String line, int number) {
            if (line.isEmpty() || line.startsWith("#")) {
                return;
            }
            if (line.startsWith("*")) {
                table = line.substring(1);
                current = work.computeIfAbsent(table, t -> builtIns(t));
                return;
            }
            if (current == null) {
                throw new IllegalArgumentException("line " + number + ": outside any table: " + line);
            }
            if (line.equals("COMMIT")) {
                current = null;
                table = null;
                return;
            }
            if (line.startsWith(":")) {
                String[] parts = line.substring(1).split("\\s+");
                String chain = parts[0];
                String policy = parts.length > 1 ? parts[1] : "-";
                MutableChain existing = current.get(chain);
                if (existing != null) {
                    existing.rules.clear();
                    if (!"-".equals(policy)) {
                        existing.policy = policy;
                    }
                } else {
                    current.put(chain, new MutableChain(chain, policy, new ArrayList<>(0)));
                }
                return;
            }
            List<String> words = Rule.tokenize(line, number);
            if (words.size() < 2) {
                throw new IllegalArgumentException("line " + number + ": not a rule: " + line);
            }
            String op = words.get(0);
            String chainName = words.get(1);
            MutableChain chain = current.get(chainName);
            if (chain == null) {
                throw new IllegalArgumentException("line " + number + ": chain " + chainName + " does not exist");
            }
            switch (op) {
                case "-A", "--append" -> chain.rules.add(new Rule(chainName, words.subList(2, words.size())));
                case "-I", "--insert" -> {
                    List<String> rest = words.subList(2, words.size());
                    int at = 0;
                    if (!rest.isEmpty() && rest.get(0).chars().allMatch(Character::isDigit)) {
                        at = Math.min(Integer.parseInt(rest.get(0)) - 1, chain.rules.size());
                        rest = rest.subList(1, rest.size());
                    }
                    chain.rules.add(Math.max(0, at), new Rule(chainName, rest));
                }
                case "-X", "--delete-chain" -> current.remove(chainName);
                case "-F", "--flush" -> chain.rules.clear();
                case "-D", "--delete" -> {
                    Rule r = new Rule(chainName, words.subList(2, words.size()));
                    if (!chain.rules.remove(r)) {
                        throw new IllegalArgumentException("line " + number + ": no such rule to delete: " + line);
                    }
                }
                default -> throw new IllegalArgumentException("line " + number + ": unknown command " + op);
            }
        }

        IptablesDump build() {
            Map<String, Table> out = new LinkedHashMap<>();
            work.forEach((name, chains) -> {
                Map<String, Chain> frozen = new LinkedHashMap<>();
                chains.forEach((cn, c) -> frozen.put(cn, new Chain(cn, c.policy, List.copyOf(c.rules))));
                out.put(name, new Table(name, Collections.unmodifiableMap(frozen)));
            });
            return new IptablesDump(Collections.unmodifiableMap(out));
        }
    }

    private static Map<String, MutableChain> builtIns(String table) {
        Map<String, MutableChain> chains = new LinkedHashMap<>();
        for (String c : BUILT_IN.getOrDefault(table, List.of())) {
            chains.put(c, new MutableChain(c, "ACCEPT", new ArrayList<>()));
        }
        return chains;
    }

    /** The table, or an empty one with only built-in chains when the dump has none. */
    public Table table(String name) {
        Table t = tables.get(name);
        if (t != null) {
            return t;
        }
        Map<String, Chain> chains = new LinkedHashMap<>();
        for (String c : BUILT_IN.getOrDefault(name, List.of())) {
            chains.put(c, new Chain(c, "ACCEPT", List.of()));
        }
        return new Table(name, chains);
    }

    public Set<String> tableNames() {
        return tables.keySet();
    }

    /** The text iptables-save would print (without its date comments). */
    public String toSaveText() {
        StringBuilder sb = new StringBuilder();
        for (Table t : tables.values()) {
            sb.append('*').append(t.name).append('\n');
            for (Chain c : t.chains.values()) {
                sb.append(':').append(c.name).append(' ').append(c.policy).append(" [0:0]\n");
            }
            for (Chain c : t.chains.values()) {
                for (Rule r : c.rules) {
                    sb.append(r.text()).append('\n');
                }
            }
            sb.append("COMMIT\n");
        }
        return sb.toString();
    }

    private static final class MutableChain {
        final String name;
        String policy;
        final List<Rule> rules;

        MutableChain(String name, String policy, List<Rule> rules) {
            this.name = name;
            this.policy = policy;
            this.rules = rules;
        }
    }

    /** One table: its chains in the order they were declared. */
    public record Table(String name, Map<String, Chain> chains) {
        public Optional<Chain> chain(String chain) {
            return Optional.ofNullable(chains.get(chain));
        }

        public boolean has(String chain) {
            return chains.containsKey(chain);
        }
    }

    /** One chain; policy is "-" for a user chain. */
    public record Chain(String name, String policy, List<Rule> rules) {
        public boolean builtIn() {
            return !"-".equals(policy);
        }
    }

    /**
     * One rule: its chain and its words after "-A CHAIN", unquoted.
     */
    public record Rule(String chain, List<String> args) {

        public Rule {
            Objects.requireNonNull(chain, "chain");
            args = List.copyOf(args);
        }

        /** The -j or -g target, or "" for a rule without one. */
        public String target() {
            for (int i = 0; i + 1 < args.size(); i++) {
                String a = args.get(i);
                if (a.equals("-j") || a.equals("--jump") || a.equals("-g") || a.equals("--goto")) {
                    return args.get(i + 1);
                }
            }
            return "";
        }

        /** The --comment text, or "" when none. */
        public String comment() {
            for (int i = 0; i + 1 < args.size(); i++) {
                if (args.get(i).equals("--comment")) {
                    return args.get(i + 1);
                }
            }
            return "";
        }

        /** "-A CHAIN args", quoting words that need it, as iptables-save prints. */
        public String text() {
            StringBuilder sb = new StringBuilder("-A ").append(chain);
            for (String a : args) {
                sb.append(' ');
                if (a.isEmpty() || a.chars().anyMatch(c -> c == ' ' || c == '"' || c == '\\' || c == '\t')) {
                    sb.append('"').append(a.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
                } else {
                    sb.append(a);
                }
            }
            return sb.toString();
        }

        @Override
        public String toString() {
            return text();
        }

        /** Splits a rule line into words; double quotes group, backslash escapes inside them. */
        static List<String> tokenize(String line, int number) {
            List<String> words = new ArrayList<>();
            StringBuilder word = new StringBuilder();
            boolean inWord = false;
            boolean quoted = false;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quoted) {
                    if (c == '\\' && i + 1 < line.length()) {
                        word.append(line.charAt(++i));
                    } else if (c == '"') {
                        quoted = false;
                    } else {
                        word.append(c);
                    }
                } else if (c == '"') {
                    quoted = true;
                    inWord = true;
                } else if (Character.isWhitespace(c)) {
                    if (inWord) {
                        words.add(word.toString());
                        word.setLength(0);
                        inWord = false;
                    }
                } else {
                    word.append(c);
                    inWord = true;
                }
            }
            if (quoted) {
                throw new IllegalArgumentException("line " + number + ": unterminated quote: " + line);
            }
            if (inWord) {
                words.add(word.toString());
            }
            return words;
        }
    }
}
