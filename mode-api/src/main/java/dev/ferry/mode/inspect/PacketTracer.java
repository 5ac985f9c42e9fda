package dev.ferry.mode.inspect;

import dev.ferry.core.Cidr;
import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.netfilter.IptablesDump;

import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Follows a new connection's first packet through the nat and filter rules of a dump, the way
 * the kernel would, and says where it ends up: which endpoint it is DNATed to (with what
 * probability), whether it is rejected or dropped, and whether it will be masqueraded.
 * Random choices ({@code -m statistic}) are followed both ways, so the outcomes list every
 * possible fate with its probability.
 *
 * <p>Order of tables: nat PREROUTING (from outside) or nat OUTPUT (from the node), then filter
 * INPUT (for a local destination), FORWARD or OUTPUT, then nat POSTROUTING unless the packet is
 * delivered locally. Conntrack state is NEW (plus DNAT once DNATed); {@code recent --rcheck}
 * never matches (no earlier connection); interface matches and other modules are not modelled
 * and end the trace with verdict UNKNOWN naming the rule.
 */
public final class PacketTracer {

    /** Where the packet comes from. */
    public enum Origin {
        /** Arrives on an interface from another host (a pod, a client outside the node). */
        EXTERNAL,
        /** Sent by a process on the node itself. */
        LOCAL
    }

    /** The first packet of a connection. */
    public record Packet(IpFamily family, Protocol protocol, InetAddress source, InetAddress destination,
                         int destinationPort, Origin origin) {
        public Packet {
            Objects.requireNonNull(family, "family");
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(destination, "destination");
            Objects.requireNonNull(origin, "origin");
            if (!family.contains(source) || !family.contains(destination)) {
                throw new IllegalArgumentException("source and destination must be " + family + " addresses");
            }
            if (destinationPort < 1 || destinationPort > 65535) {
                throw new IllegalArgumentException("port " + destinationPort + " out of range 1..65535");
            }
        }
    }

    public enum Verdict { ACCEPT, DROP, REJECT, UNKNOWN }

    /**
     * One possible fate of the packet.
     *
     * @param dnatDestination "ip:port" ("[ip]:port" for IPv6) it was DNATed to, "" when not
     * @param masqueradeMarked the masquerade mark was set before POSTROUTING
     * @param masqueraded      a MASQUERADE rule matched in POSTROUTING
     * @param path             every rule that matched, as "table: rule"
     * @param problem          why the trace stopped with UNKNOWN, else ""
     */
    public record Outcome(double probability, Verdict verdict, String dnatDestination, boolean masqueradeMarked,
                          boolean masqueraded, List<String> path, String problem) {

        /** "ip:port" when DNATed and accepted; else "REJECT", "DROP", "UNKNOWN" or "" (accepted as is). */
        public String summary() {
            if (verdict == Verdict.ACCEPT) {
                return dnatDestination;
            }
            return verdict.name();
        }
    }

    private static final int MAX_STEPS = 100_000;

    private final IptablesDump dump;
    private final List<InetAddress> localAddresses;
    private final long masqueradeMark;

    /**
     * @param localAddresses the node's addresses (for {@code addrtype LOCAL}; loopback counts too)
     * @param masqueradeMark the mark bit KUBE-MARK-MASQ sets (1 << masqueradeBit)
     */
    public PacketTracer(IptablesDump dump, Collection<InetAddress> localAddresses, long masqueradeMark) {
        this.dump = Objects.requireNonNull(dump, "dump");
        this.localAddresses = List.copyOf(localAddresses);
        this.masqueradeMark = masqueradeMark;
    }

    public PacketTracer(IptablesDump dump, Collection<InetAddress> localAddresses) {
        this(dump, localAddresses, 1L << 14);
    }

    /**
     * {@code dump} for packets that arrive on {@code in} and leave on {@code out}: the tracer does
     * not model interfaces, so a rule whose {@code -i}/{@code -o} match holds loses it and one whose
     * match fails is left out; null leaves that direction's matches for the tracer to report.
     */
    public static IptablesDump settleInterfaces(IptablesDump dump, String in, String out) {
        return Interfaces.resolve(dump, in, out);
    }

    public List<Outcome> trace(Packet packet) {
        Objects.requireNonNull(packet, "packet");
        List<Outcome> outcomes = new ArrayList<>();
        Walk start = new Walk(packet);
        List<Walk> afterNat = runHook(start, "nat", packet.origin() == Origin.LOCAL ? "OUTPUT" : "PREROUTING");
        for (Walk w : afterNat) {
            if (w.verdict != null) {
                w.marked = (w.mark & masqueradeMark) != 0;
                outcomes.add(w.outcome());
                continue;
            }
            String filterHook = packet.origin() == Origin.LOCAL ? "OUTPUT" : isLocal(w.dst) ? "INPUT" : "FORWARD";
            for (Walk f : runHook(w, "filter", filterHook)) {
                f.marked = (f.mark & masqueradeMark) != 0;
                if (f.verdict != null || filterHook.equals("INPUT")) {
                    outcomes.add(f.outcome());
                    continue;
                }
                for (Walk p : runHook(f, "nat", "POSTROUTING")) {
                    outcomes.add(p.outcome());
                }
            }
        }
        return outcomes;
    }

    private boolean isLocal(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return true;
        }
        for (InetAddress a : localAddresses) {
            if (a.equals(address)) {
                return true;
            }
        }
        return false;
    }

    /** A packet's state on one path through the rules. */
    private static final class Walk {
        final Packet packet;
        InetAddress dst;
        int dport;
        long mark;
        String dnat = "";
        boolean marked;
        boolean masqueraded;
        double probability = 1.0;
        List<String> path = new ArrayList<>();
        Deque<int[]> stackIndex = new ArrayDeque<>();
        Deque<String> stackChain = new ArrayDeque<>();
        Verdict verdict;
        String problem = "";

        Walk(Packet packet) {
            this.packet = packet;
            this.dst = packet.destination();
            this.dport = packet.destinationPort();
        }

        Walk copy() {
            Walk w = new Walk(packet);
            w.dst = dst;
            w.dport = dport;
            w.mark = mark;
            w.dnat = dnat;
            w.marked = marked;
            w.masqueraded = masqueraded;
            w.probability = probability;
            w.path = new ArrayList<>(path);
            for (var it = stackIndex.descendingIterator(); it.hasNext(); ) {
                w.stackIndex.push(new int[] {it.next()[0]});
            }
            for (var it = stackChain.descendingIterator(); it.hasNext(); ) {
                w.stackChain.push(it.next());
            }
            w.verdict = verdict;
            w.problem = problem;
            return w;
        }

        void stop(Verdict v, String why) {
            verdict = v;
            problem = why;
        }

        Outcome outcome() {
            Verdict v = verdict == null ? Verdict.ACCEPT : verdict;
            return new Outcome(probability, v, dnat, marked, masqueraded, List.copyOf(path), problem);
        }
    }

    /** Runs one built-in chain; returned walks have verdict null when the packet goes on. */
    private List<Walk> runHook(Walk start, String tableName, String builtIn) {
        IptablesDump.Table table = dump.table(tableName);
        List<Walk> done = new ArrayList<>();
        Deque<Walk> work = new ArrayDeque<>();
        Walk first = start.copy();
        first.stackChain.clear();
        first.stackIndex.clear();
        first.stackChain.push(builtIn);
        first.stackIndex.push(new int[] {0});
        work.push(first);
        int steps = 0;
        while (!work.isEmpty()) {
            Walk w = work.pop();
            while (true) {
                if (++steps > MAX_STEPS) {
                    w.stop(Verdict.UNKNOWN, "more than " + MAX_STEPS + " rule evaluations: a loop?");
                    done.add(w);
                    break;
                }
                String chainName = w.stackChain.peek();
                IptablesDump.Chain chain = table.chain(chainName).orElse(null);
                if (chain == null) {
                    w.stop(Verdict.UNKNOWN, tableName + " chain " + chainName + " does not exist");
                    done.add(w);
                    break;
                }
                int[] index = w.stackIndex.peek();
                if (index[0] >= chain.rules().size()) {
                    if (returnFromChain(w, chain)) {
                        done.add(w);
                        break;
                    }
                    continue;
                }
                IptablesDump.Rule rule = chain.rules().get(index[0]++);
                Match m = match(rule, w);
                if (m.problem != null) {
                    w.stop(Verdict.UNKNOWN, m.problem + " in " + tableName + ": " + rule.text());
                    done.add(w);
                    break;
                }
                if (!m.matches) {
                    continue;
                }
                if (m.probability < 1.0) {
                    if (m.probability > 0.0) {
                        Walk other = w.copy();
                        other.probability *= 1.0 - m.probability;
                        work.push(other);
                        w.probability *= m.probability;
                    } else {
                        continue;
                    }
                }
                w.path.add(tableName + ": " + rule.text());
                if (applyTarget(rule, w, table, tableName)) {
                    done.add(w);
                    break;
                }
            }
        }
        return done;
    }

    /** Leaves the current chain; true when that ends the hook (end of the built-in chain). */
    private static boolean returnFromChain(Walk w, IptablesDump.Chain chain) {
        w.stackChain.pop();
        w.stackIndex.pop();
        if (!w.stackChain.isEmpty()) {
            return false;
        }
        if ("DROP".equals(chain.policy())) {
            w.stop(Verdict.DROP, "");
        }
        return true;
    }

    /** Applies a matched rule's target; true when the hook is over for this walk. */
    private boolean applyTarget(IptablesDump.Rule rule, Walk w, IptablesDump.Table table, String tableName) {
        List<String> args = rule.args();
        int t = -1;
        boolean isGoto = false;
        for (int i = 0; i + 1 < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-j") || a.equals("--jump") || a.equals("-g") || a.equals("--goto")) {
                t = i + 1;
                isGoto = a.equals("-g") || a.equals("--goto");
                break;
            }
        }
        if (t < 0) {
            return false; // no target: counts packets, nothing else
        }
        String target = args.get(t);
        List<String> opts = args.subList(t + 1, args.size());
        switch (target) {
            case "ACCEPT":
                return true;
            case "DROP":
                w.stop(Verdict.DROP, "");
                return true;
            case "REJECT":
                w.stop(Verdict.REJECT, "");
                return true;
            case "RETURN": {
                IptablesDump.Chain current = table.chain(w.stackChain.peek()).orElseThrow();
                return returnFromChain(w, current);
            }
            case "DNAT":
                return dnat(w, option(opts, "--to-destination"), rule);
            case "MASQUERADE":
                w.masqueraded = true;
                return true;
            case "MARK":
                return mark(w, opts, rule);
            case "LOG":
            case "NFLOG":
                return false;
            default:
                if (!table.has(target)) {
                    w.stop(Verdict.UNKNOWN, "target " + target + " is not modelled (" + tableName + ": " + rule.text() + ")");
                    return true;
                }
                if (isGoto) {
                    w.stackChain.pop();
                    w.stackIndex.pop();
                }
                w.stackChain.push(target);
                w.stackIndex.push(new int[] {0});
                return false;
        }
    }

    private static String option(List<String> opts, String name) {
        for (int i = 0; i + 1 < opts.size(); i++) {
            if (opts.get(i).equals(name)) {
                return opts.get(i + 1);
            }
        }
        return null;
    }

    private static boolean dnat(Walk w, String to, IptablesDump.Rule rule) {
        if (to == null) {
            w.stop(Verdict.UNKNOWN, "DNAT without --to-destination: " + rule.text());
            return true;
        }
        try {
            String host = to;
            int port = w.dport;
            if (to.startsWith("[")) {
                int close = to.indexOf(']');
                host = to.substring(1, close);
                if (close + 1 < to.length()) {
                    port = Integer.parseInt(to.substring(close + 2));
                }
            } else if (to.indexOf(':') >= 0 && to.indexOf(':') == to.lastIndexOf(':')) {
                host = to.substring(0, to.indexOf(':'));
                port = Integer.parseInt(to.substring(to.indexOf(':') + 1));
            }
            w.dst = IpAddresses.parse(host);
            w.dport = port;
            w.dnat = IpAddresses.hostPort(w.dst, port);
            return true; // NAT targets end the nat chain traversal
        } catch (RuntimeException e) {
            w.stop(Verdict.UNKNOWN, "cannot read DNAT destination " + to + ": " + rule.text());
            return true;
        }
    }

    private static boolean mark(Walk w, List<String> opts, IptablesDump.Rule rule) {
        try {
            String or = option(opts, "--or-mark");
            String xor = option(opts, "--xor-mark");
            String setx = option(opts, "--set-xmark");
            String set = option(opts, "--set-mark");
            if (or != null) {
                w.mark |= Long.decode(or);
            } else if (xor != null) {
                w.mark ^= Long.decode(xor);
            } else if (setx != null || set != null) {
                String[] vm = (setx != null ? setx : set).split("/");
                long value = Long.decode(vm[0]);
                long mask = vm.length > 1 ? Long.decode(vm[1]) : 0xffffffffL;
                w.mark = setx != null ? (w.mark & ~mask) ^ value : (w.mark & ~mask) | value;
            } else {
                w.stop(Verdict.UNKNOWN, "MARK without a known option: " + rule.text());
                return true;
            }
            return false;
        } catch (NumberFormatException e) {
            w.stop(Verdict.UNKNOWN, "cannot read mark value: " + rule.text());
            return true;
        }
    }

    /** Whether a rule's matches hold, with what probability, or why they cannot be judged. */
    private record Match(boolean matches, double probability, String problem) {
        static final Match NO = new Match(false, 0, null);

        static Match unknown(String problem) {
            return new Match(false, 0, problem);
        }
    }

    private Match match(IptablesDump.Rule rule, Walk w) {
        List<String> a = rule.args();
        Packet p = w.packet;
        boolean ok = true;
        boolean negate = false;
        double probability = 1.0;
        for (int i = 0; i < a.size(); i++) {
            String opt = a.get(i);
            if (opt.equals("-j") || opt.equals("--jump") || opt.equals("-g") || opt.equals("--goto")) {
                break;
            }
            if (opt.equals("!")) {
                negate = true;
                continue;
            }
            String value = i + 1 < a.size() ? a.get(i + 1) : null;
            Boolean result;
            switch (opt) {
                case "-m", "--match" -> {
                    if (!Set.of("tcp", "udp", "sctp", "addrtype", "statistic", "recent", "mark", "conntrack",
                            "comment").contains(value)) {
                        return Match.unknown("match module -m " + value + " is not modelled");
                    }
                    i++;
                    continue;
                }
                case "-s", "--source" -> { result = inCidr(p.source(), value); i++; }
                case "-d", "--destination" -> { result = inCidr(w.dst, value); i++; }
                case "-p", "--protocol" -> {
                    result = value.equalsIgnoreCase("all") || value.equals("0")
                            || value.toLowerCase(Locale.ROOT).equals(p.protocol().lower());
                    i++;
                }
                case "--dport", "--destination-port" -> { result = inPortRange(w.dport, value); i++; }
                case "--dst-type" -> { result = addrType(w.dst, value); i++; }
                case "--src-type" -> { result = addrType(p.source(), value); i++; }
                case "--mode" -> {
                    if (!"random".equals(value)) {
                        return Match.unknown("statistic mode " + value + " is not modelled");
                    }
                    i++;
                    continue;
                }
                case "--probability" -> {
                    try {
                        double prob = Double.parseDouble(value);
                        probability = negate ? 1.0 - prob : prob;
                    } catch (RuntimeException e) {
                        return Match.unknown("bad probability " + value);
                    }
                    negate = false;
                    i++;
                    continue;
                }
                case "--rcheck", "--update" -> result = false; // no earlier connection is recorded
                case "--set", "--reap", "--rsource", "--rdest" -> { negate = false; continue; }
                case "--name", "--seconds", "--hitcount", "--mask", "--comment" -> { i++; negate = false; continue; }
                case "--mark" -> { result = markMatches(w.mark, value); i++; }
                case "--ctstate", "--state" -> {
                    Set<String> states = new HashSet<>(List.of(value.split(",")));
                    result = states.contains("NEW") || (!w.dnat.isEmpty() && states.contains("DNAT"));
                    i++;
                }
                default -> {
                    return Match.unknown("option " + opt + " is not modelled");
                }
            }
            if (result == null) {
                return Match.unknown("cannot read " + opt + " " + value);
            }
            if (result == negate) {
                ok = false;
            }
            negate = false;
        }
        if (!ok) {
            return Match.NO;
        }
        return new Match(true, probability, null);
    }

    private static Boolean inCidr(InetAddress address, String value) {
        try {
            Cidr cidr = Cidr.parse(value);
            return cidr.contains(address);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Boolean inPortRange(int port, String value) {
        try {
            int colon = value.indexOf(':');
            if (colon < 0) {
                return port == Integer.parseInt(value);
            }
            int lo = colon == 0 ? 0 : Integer.parseInt(value.substring(0, colon));
            int hi = colon == value.length() - 1 ? 65535 : Integer.parseInt(value.substring(colon + 1));
            return port >= lo && port <= hi;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private Boolean addrType(InetAddress address, String type) {
        if (!"LOCAL".equals(type)) {
            return null;
        }
        return isLocal(address);
    }

    private static Boolean markMatches(long mark, String value) {
        try {
            String[] vm = value.split("/");
            long v = Long.decode(vm[0]);
            long m = vm.length > 1 ? Long.decode(vm[1]) : 0xffffffffL;
            return (mark & m) == v;
        } catch (RuntimeException e) {
            return null;
        }
    }
}
