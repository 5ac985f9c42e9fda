package dev.ferry.bench;

import dev.ferry.core.ChangeTracker;
import dev.ferry.core.Cidr;
import dev.ferry.core.IpFamily;
import dev.ferry.core.ProxySnapshot;
import dev.ferry.core.SyncResult;
import dev.ferry.iptables.IptablesBackend;
import dev.ferry.iptables.IptablesConfig;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.CommandRunners;
import dev.ferry.netfilter.LocalAddresses;
import dev.ferry.netfilter.Sysctls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The one-endpoint partial sync at 10k Services x 10 endpoints on the machine's default
 * iptables (nf_tables), in a fresh network namespace. ScaleBenchmark cannot cover this case:
 * a --noflush full restore of the 10k payload takes 20+ minutes on iptables-nft. So this loads
 * the full rules with a real full sync of our backend whose restore runs without --noflush
 * (flush mode), then times our partial sync after one endpoint change against
 * iptables-restore of the same payload alone, and against that full sync.
 * Run as root; args: services endpoints rounds [legacy].
 */
public final class NftPartialBenchmark {

    static boolean setup;
    static long restoreNanos, otherNanos;
    static List<String> lastArgv;
    static byte[] lastPayload;

    public static void main(String[] args) throws Exception {
        int services = Integer.parseInt(args[0]);
        int endpoints = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        boolean legacy = args.length > 3 && args[3].equals("legacy");
        String ns = "fy-scr-" + Long.toHexString(System.nanoTime() & 0xffffff);
        run(List.of("ip", "netns", "add", ns));
        try {
            CommandRunner nsRunner = CommandRunners.prefixed(List.of("ip", "netns", "exec", ns),
                    CommandRunners.process(Duration.ofMinutes(60)));
            CommandRunner rec = recording(nsRunner, legacy);
            IptablesConfig config = IptablesConfig.defaults().withClusterCidrs(List.of(Cidr.parse("10.0.0.0/8")));
            IptablesBackend backend = IptablesBackend.builder(IpFamily.IPV4, config, rec)
                    .sysctls(Sysctls.viaCommands(nsRunner)).localAddresses(LocalAddresses.of(List.of())).build();

            Cluster cluster = new Cluster(services, endpoints);
            ChangeTracker tracker = Cluster.newTracker();
            ProxySnapshot snap = cluster.fullSnapshot(tracker);

            setup = true;
            restoreNanos = 0;
            otherNanos = 0;
            long t0 = System.nanoTime();
            SyncResult full = backend.sync(snap);
            long fullWall = System.nanoTime() - t0;
            check(full, true);
            System.out.printf("setup: full sync with a flush-mode restore: wall %.0f ms, restore %.0f ms, other commands %.0f ms, payload %d bytes%n",
                    ms(fullWall), ms(restoreNanos), ms(otherNanos), lastPayloadSize);
            setup = false;
            CommandRunner.Result count = nsRunner.run(List.of(legacy ? "iptables-legacy-save" : "iptables-save", "-t", "nat"), null);
            System.out.printf("nat rules in the kernel: %d%n", count.stdout().lines().filter(l -> l.startsWith("-A ")).count());

            int k = services / 3;
            int version = 0;
            List<Double> ours = new ArrayList<>(), oursRestore = new ArrayList<>(), oursOther = new ArrayList<>(), alone = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                // ours: A -> B, B -> A (each one endpoint of Service k moved)
                List<List<String>> argvs = new ArrayList<>();
                List<byte[]> payloads = new ArrayList<>();
                for (int leg = 0; leg < 2; leg++) {
                    int next = leg == 0 ? 1 + round : 0;
                    tracker.updateEndpointSlice(cluster.changedSlice(k, version), cluster.changedSlice(k, next));
                    version = next;
                    ProxySnapshot s = tracker.snapshot();
                    restoreNanos = 0;
                    otherNanos = 0;
                    lastPayload = null;
                    long p0 = System.nanoTime();
                    SyncResult r = backend.sync(s);
                    long wall = System.nanoTime() - p0;
                    check(r, false);
                    System.out.printf("round %d leg %d: partial sync wall %.1f ms (restore %.1f ms, other commands %.1f ms, JVM %.1f ms), payload %d bytes, %d lines%n",
                            round, leg, ms(wall), ms(restoreNanos), ms(otherNanos), ms(wall - restoreNanos - otherNanos),
                            lastPayload.length, new String(lastPayload).lines().count());
                    if (round == 0 && leg == 0) {
                        System.out.println("---- payload ----\n" + new String(lastPayload) + "---- end ----");
                    }
                    if (round > 0) { // round 0 is a warm-up
                        ours.add(ms(wall));
                        oursRestore.add(ms(restoreNanos));
                        oursOther.add(ms(otherNanos));
                    }
                    argvs.add(lastArgv);
                    payloads.add(lastPayload);
                }
                // iptables-restore alone of the same two payloads, each onto the rules it was made for
                for (int leg = 0; leg < 2; leg++) {
                    long b0 = System.nanoTime();
                    CommandRunner.Result r = nsRunner.run(argvs.get(leg), payloads.get(leg));
                    long took = System.nanoTime() - b0;
                    if (!r.ok()) {
                        throw new IllegalStateException("baseline failed: " + r.stderr());
                    }
                    System.out.printf("round %d leg %d: iptables-restore alone %.1f ms%n", round, leg, ms(took));
                    if (round > 0) {
                        alone.add(ms(took));
                    }
                }
            }
            System.out.printf("SUMMARY %s %d services x %d endpoints, %d measured partial syncs%n",
                    legacy ? "iptables-legacy" : "iptables-nft", services, endpoints, ours.size());
            System.out.printf("  partial sync wall: median %.1f ms, min %.1f ms (restore median %.1f ms, other commands median %.1f ms)%n",
                    median(ours), min(ours), median(oursRestore), median(oursOther));
            System.out.printf("  iptables-restore alone, same payload: median %.1f ms, min %.1f ms%n", median(alone), min(alone));
            System.out.printf("  full sync (flush-mode restore, setup): %.0f ms; partial / that = %.2f %%%n",
                    ms(fullWall), 100 * median(ours) / ms(fullWall));
        } finally {
            run(List.of("ip", "netns", "del", ns));
        }
    }

    static long lastPayloadSize;

    static CommandRunner recording(CommandRunner inner, boolean legacy) {
        return new CommandRunner() {
            List<String> map(List<String> argv) {
                List<String> a = new ArrayList<>(argv);
                if (legacy) {
                    String p = a.get(0);
                    a.set(0, p.equals("iptables-save") ? "iptables-legacy-save" : p.equals("iptables-restore")
                            ? "iptables-legacy-restore" : p.equals("iptables") ? "iptables-legacy" : p);
                }
                if (setup && a.get(0).endsWith("-restore")) {
                    a.remove("--noflush");
                }
                return a;
            }

            @Override
            public Result run(List<String> argv, byte[] stdin) throws IOException {
                long t0 = System.nanoTime();
                try {
                    return inner.run(map(argv), stdin);
                } finally {
                    otherNanos += System.nanoTime() - t0;
                }
            }

            @Override
            public Result runStreaming(List<String> argv, Input stdin) throws IOException {
                List<String> a = map(argv);
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                stdin.writeTo(buf);
                byte[] bytes = buf.toByteArray();
                lastPayloadSize = bytes.length;
                if (!setup) {
                    lastPayload = bytes;
                }
                lastArgv = a;
                long t0 = System.nanoTime();
                try {
                    return inner.run(a, bytes);
                } finally {
                    restoreNanos += System.nanoTime() - t0;
                }
            }

            @Override
            public Result runReading(List<String> argv, Output stdout) throws IOException {
                long t0 = System.nanoTime();
                try {
                    return inner.runReading(map(argv), stdout);
                } finally {
                    otherNanos += System.nanoTime() - t0;
                }
            }
        };
    }

    static void check(SyncResult r, boolean full) {
        if (!r.ok() || r.full() != full) {
            throw new IllegalStateException("sync: ok=" + r.ok() + " full=" + r.full() + " " + r.error());
        }
    }

    static void run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException(argv + " failed");
        }
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }
}
