package dev.ferry.bench.ipvs;

import dev.ferry.ipvs.netlink.IpvsClient;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The part of {@link IpvsProgrammingBenchmark} that runs inside the user-mode-linux guest (root of its own kernel,
 * IPVS loaded). For each round, each load into a fresh, empty network namespace ({@link FreshNetns}, so that neither
 * load pays for the previous one's deleted real servers): time programming the table through our
 * {@link IpvsClient}, one request per service and per real server, in the order a first sync sends them; check it
 * by listing through the client and with {@code ipvsadm -Ln}; then time {@code ipvsadm --restore} of the same table
 * from a file (tmpfs) in another fresh namespace and check it with {@code ipvsadm -Ln}. With
 * {@code --same-namespace} both loads go instead into the guest's own namespace with a flush before each (the
 * naive design, kept to show the kernel's destination-trash effect).
 *
 * <p>Prints progress lines and, per round, one line "ROUND r OURS_NS IPVSADM_NS" the host side parses. Any failure
 * (a refused request, a wrong count) ends the run with a non-zero exit: a figure from a table that is not the one
 * asked for is worthless. Single-threaded; the namespaces stay until the end of the run, so that no namespace
 * teardown runs while a later load is timed.
 */
public final class GuestSide {

    private GuestSide() {
    }

    public static void main(String[] args) throws Exception {
        int services = 10_000;
        int reals = 10;
        int rounds = 3;
        boolean sameNamespace = false;
        Path scratch = Path.of(System.getProperty("java.io.tmpdir"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--services" -> services = Integer.parseInt(args[++i]);
                case "--reals" -> reals = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--scratch" -> scratch = Path.of(args[++i]);
                case "--same-namespace" -> sameNamespace = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Table table = new Table(services, reals);
        Path restoreFile = scratch.resolve("ipvsadm-restore.txt");
        Files.writeString(restoreFile, table.restoreText(), StandardCharsets.US_ASCII);
        System.out.printf("guest: %d CPU(s), JVM max heap %d MiB, kernel %s; table %d services x %d real servers;"
                        + " restore file %d lines, %d bytes; %s%n",
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
                System.getProperty("os.version"), services, reals,
                services + table.realServerCount(), Files.size(restoreFile),
                sameNamespace ? "both loads in the guest's own namespace, flushed before each"
                        : "each load into a fresh network namespace");

        List<FreshNetns> namespaces = new ArrayList<>();
        try {
            for (int round = 1; round <= rounds; round++) {
                long ours;
                long ipvsadm;
                if (sameNamespace) {
                    try (IpvsClient client = IpvsClient.open()) {
                        client.flush();
                        ours = programThroughClient(client, table, round);
                        checkWithClient(client, table);
                        checkWithIpvsadm(table, "ours", List.of("ipvsadm", "-Ln"));
                        client.flush();
                    }
                    ipvsadm = restoreWithIpvsadm(List.of("ipvsadm", "--restore"), restoreFile);
                    checkWithIpvsadm(table, "ipvsadm", List.of("ipvsadm", "-Ln"));
                    try (IpvsClient client = IpvsClient.open()) {
                        client.flush();
                    }
                } else {
                    FreshNetns forOurs = FreshNetns.create();
                    namespaces.add(forOurs);
                    FreshNetns forIpvsadm = FreshNetns.create();
                    namespaces.add(forIpvsadm);
                    try (IpvsClient client = IpvsClient.open(forOurs.file())) {
                        ours = programThroughClient(client, table, round);
                        checkWithClient(client, table);
                    }
                    checkWithIpvsadm(table, "ours", forOurs.inside("ipvsadm", "-Ln"));
                    ipvsadm = restoreWithIpvsadm(forIpvsadm.inside("ipvsadm", "--restore"), restoreFile);
                    checkWithIpvsadm(table, "ipvsadm", forIpvsadm.inside("ipvsadm", "-Ln"));
                }
                System.out.printf("round %d: ours %.2f s, ipvsadm --restore %.2f s, ratio %.2f%n",
                        round, ours / 1e9, ipvsadm / 1e9, (double) ours / ipvsadm);
                System.out.println("ROUND " + round + " " + ours + " " + ipvsadm);
                System.out.flush();
            }
        } finally {
            for (FreshNetns ns : namespaces) {
                ns.close();
            }
        }
    }

    /** Returns the nanoseconds from the first request to the last answer; prints progress every tenth. */
    private static long programThroughClient(IpvsClient client, Table table, int round) throws IOException {
        int step = Math.max(1, table.services() / 10);
        long start = System.nanoTime();
        for (int i = 0; i < table.services(); i++) {
            VirtualServer vs = table.service(i);
            client.addService(vs);
            for (int j = 0; j < table.reals(); j++) {
                client.addRealServer(vs, table.real(i, j));
            }
            if ((i + 1) % step == 0 && i + 1 < table.services()) {
                System.out.printf("  round %d, ours: %d/%d services after %.2f s%n",
                        round, i + 1, table.services(), (System.nanoTime() - start) / 1e9);
                System.out.flush();
            }
        }
        return System.nanoTime() - start;
    }

    /** ipvsadm's own process (and nsenter's exec) included: that is how the table is loaded with it. */
    private static long restoreWithIpvsadm(List<String> command, Path restoreFile)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command)
                .redirectInput(restoreFile.toFile())
                .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        int exit = p.waitFor();
        long elapsed = System.nanoTime() - start;
        if (exit != 0) {
            throw new IOException(String.join(" ", command) + " < " + restoreFile + " exited " + exit);
        }
        return elapsed;
    }

    private static void checkWithClient(IpvsClient client, Table table) throws IOException {
        long start = System.nanoTime();
        List<VirtualServer> listed = client.services();
        if (listed.size() != table.services()) {
            throw new IOException("ours: the kernel lists " + listed.size() + " services, expected "
                    + table.services());
        }
        long reals = 0;
        for (VirtualServer vs : listed) {
            List<RealServer> rs = client.realServers(vs);
            if (rs.size() != table.reals()) {
                throw new IOException("ours: service " + vs.address().getHostAddress() + " has " + rs.size()
                        + " real servers, expected " + table.reals());
            }
            reals += rs.size();
        }
        System.out.printf("  listed through our client: %d services, %d real servers (%.2f s, not timed)%n",
                listed.size(), reals, (System.nanoTime() - start) / 1e9);
    }

    /** Counts the "TCP ..." and "  -> ADDRESS:PORT ..." lines of {@code ipvsadm -Ln} (headers excluded). */
    private static void checkWithIpvsadm(Table table, String who, List<String> command)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long services = 0;
        long reals = 0;
        List<String> unexpected = new ArrayList<>();
        try (var lines = p.inputReader(StandardCharsets.US_ASCII)) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.startsWith("TCP ")) {
                    services++;
                } else if (line.startsWith("  -> ") && Character.isDigit(line.charAt(5))) {
                    reals++;
                } else if (unexpected.size() < 5 && !line.startsWith("IP Virtual Server") && !line.startsWith("Prot ")
                        && !line.startsWith("  -> RemoteAddress")) {
                    unexpected.add(line);
                }
            }
        }
        int exit = p.waitFor();
        if (exit != 0 || services != table.services() || reals != table.realServerCount()) {
            throw new IOException(who + ": " + String.join(" ", command) + " (exit " + exit + ") shows " + services
                    + " services and " + reals + " real servers, expected " + table.services() + " and "
                    + table.realServerCount() + "; other lines: " + unexpected);
        }
        System.out.printf("  %s: ipvsadm -Ln shows %d services, %d real servers%n", who, services, reals);
    }
}
