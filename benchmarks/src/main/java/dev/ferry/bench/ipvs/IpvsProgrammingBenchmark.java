package dev.ferry.bench.ipvs;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Issue 5's IPVS benchmark: programming a large IPVS table (default 10,000 TCP virtual services, rr, 10
 * masquerading real servers each) through our generic netlink client against loading the same table with
 * {@code ipvsadm --restore}, inside Debian's user-mode-linux kernel (this machine's kernel has no IPVS). Boots one
 * guest with the host filesystem as root, runs {@link GuestSide} from this very classpath inside it (the guest's
 * JVM with its defaults, 1 CPU), streams the guest's progress to standard error and prints a Markdown table of the
 * rounds, their medians and the ratio ours / ipvsadm on standard output. Each load goes into a fresh network
 * namespace of the guest (see {@link FreshNetns} for why); {@code --same-namespace} flushes and reloads the
 * guest's own table instead. Not a test: nothing fails on a slow figure.
 * Root only (hostfs as the guest's root needs it); nothing on the host is changed (the guest has its own kernel).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.ferry.bench.ipvs.IpvsProgrammingBenchmark \
 *     [--services 10000] [--reals 10] [--rounds 3] [--timeout-minutes 30 per round] [--same-namespace]
 *     [--host-cpus LIST (taskset list for the whole guest; default: not pinned)]
 * </pre>
 */
public final class IpvsProgrammingBenchmark {

    private IpvsProgrammingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int services = 10_000;
        int reals = 10;
        int rounds = 3;
        int minutesPerRound = 30;
        boolean sameNamespace = false;
        String hostCpus = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--same-namespace")) {
                sameNamespace = true;
                continue;
            }
            if (args[i].equals("--host-cpus") && i + 1 < args.length) {
                hostCpus = args[++i];
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            int v = Integer.parseInt(args[++i]);
            switch (args[i - 1]) {
                case "--services" -> services = v;
                case "--reals" -> reals = v;
                case "--rounds" -> rounds = v;
                case "--timeout-minutes" -> minutesPerRound = v;
                default -> throw new IllegalArgumentException("unknown option " + args[i - 1]
                        + " (--services N --reals M --rounds R --timeout-minutes T --same-namespace --host-cpus LIST)");
            }
        }
        new Table(services, reals); // fail fast on sizes the guest would refuse
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds " + rounds + " < 1");
        }
        String unavailable = UmlBoot.unavailability();
        if (unavailable != null) {
            System.err.println("cannot run: " + unavailable);
            System.exit(2);
        }

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(p -> Path.of(p).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
        List<String> guestArgs = new ArrayList<>(List.of("--services", Integer.toString(services),
                "--reals", Integer.toString(reals), "--rounds", Integer.toString(rounds)));
        if (sameNamespace) {
            guestArgs.add("--same-namespace");
        }
        System.err.println("booting user-mode-linux" + (hostCpus == null ? "" : " on host CPUs " + hostCpus)
                + "; guest runs " + java + " -cp " + classpath + " "
                + GuestSide.class.getName() + " " + String.join(" ", guestArgs));
        Instant started = Instant.now();
        Duration timeout = Duration.ofMinutes((long) minutesPerRound * rounds + 2);
        UmlBoot.Result result = UmlBoot.run(timeout, hostCpus, scratch -> {
            List<String> command = new ArrayList<>(List.of(java, "-cp", classpath, GuestSide.class.getName()));
            command.addAll(guestArgs);
            command.addAll(List.of("--scratch", scratch.toString()));
            return command;
        }, System.err);
        if (result.exit() != 0) {
            System.err.println("the guest side failed (exit " + result.exit() + "); its output is above");
            System.exit(1);
        }

        List<long[]> measured = new ArrayList<>();
        for (String line : result.output().lines().toList()) {
            if (line.startsWith("ROUND ")) {
                String[] f = line.split(" ");
                measured.add(new long[] {Long.parseLong(f[2]), Long.parseLong(f[3])});
            }
        }
        if (measured.size() != rounds) {
            System.err.println("expected " + rounds + " rounds from the guest, parsed " + measured.size());
            System.exit(1);
        }
        System.out.print(report(services, reals, sameNamespace, hostCpus, measured,
                Duration.between(started, Instant.now())));
    }

    static String report(int services, int reals, boolean sameNamespace, String hostCpus, List<long[]> rounds,
                         Duration wall) {
        long requests = services + (long) services * reals;
        StringBuilder s = new StringBuilder();
        s.append(String.format("%n%,d TCP virtual services (rr) x %d masquerading real servers = %,d netlink requests"
                + " per load; %s; guest on host CPUs %s; %d rounds; whole run %d s%n%n", services, reals, requests,
                sameNamespace ? "both loads in the guest's own namespace, flushed before each"
                        : "each load into a fresh network namespace",
                hostCpus == null ? "any" : hostCpus, rounds.size(), wall.toSeconds()));
        s.append("| round | ours: IpvsClient, one request each | ipvsadm --restore | ours / ipvsadm |\n");
        s.append("|---|---|---|---|\n");
        for (int i = 0; i < rounds.size(); i++) {
            long[] r = rounds.get(i);
            s.append(String.format("| %d | %.2f s | %.2f s | %.2f |%n", i + 1, r[0] / 1e9, r[1] / 1e9,
                    (double) r[0] / r[1]));
        }
        long ours = median(rounds.stream().mapToLong(r -> r[0]).toArray());
        long theirs = median(rounds.stream().mapToLong(r -> r[1]).toArray());
        s.append(String.format("| **median** | **%.2f s** (%.1f µs per request) | **%.2f s** (%.1f µs per request)"
                        + " | **%.2f** |%n",
                ours / 1e9, ours / 1e3 / requests, theirs / 1e9, theirs / 1e3 / requests, (double) ours / theirs));
        return s.toString();
    }

    private static long median(long[] values) {
        long[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
