package dev.ferry.proxy;

import dev.ferry.core.Poll;
import dev.ferry.proxy.source.FileSourceTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole program in this JVM, on the dry-run runner: no root, nothing touched. */
class MainTest {

    @Test
    void dryRunOncePrintsTheExampleServicesChains() throws Exception {
        ProxyOptionsTest.Run r = ProxyOptionsTest.main("--manifests", "../examples/manifests", "--dry-run", "--once",
                "--hostname-override=node-1");
        assertEquals(0, r.status(), r.err());
        assertEquals("KUBE-SVC-4SW47YFZTEDKD3PK", chain("KUBE-SVC-", "ns4/svc4:p80", "tcp"), "upstream's example");
        String svc = chain("KUBE-SVC-", "default/web:http", "tcp");
        assertTrue(r.out().contains("-A KUBE-SERVICES -m comment --comment \"default/web:http cluster IP\" -m tcp -p tcp"
                + " -d 10.96.0.10 --dport 80 -j " + svc), r.out());
        assertTrue(r.out().contains("-A " + svc + " -m comment --comment \"default/web:http -> 10.244.1.10:8080\""), r.out());
        assertTrue(r.out().contains(chain("KUBE-SVC-", "kube-system/dns:dns", "udp")), r.out());
        assertTrue(r.out().contains("default/pending has no endpoints"), r.out());
        // The payload is whole tables only: the canary's mangle table, then filter and nat.
        assertTrue(r.out().startsWith("*") && r.out().contains("*filter\n") && r.out().contains("*nat\n")
                && r.out().trim().endsWith("COMMIT"), r.out());
    }

    @Test
    void aDualStackClusterGetsAnIpv6BackendToo() {
        ProxyOptionsTest.Run r = ProxyOptionsTest.main("--manifests", "../examples/manifests", "--dry-run", "--once",
                "--cluster-cidr=10.244.0.0/16,fd00:10:244::/56");
        assertEquals(0, r.status(), r.err());
        assertEquals(2, r.out().split("\\*nat\n", -1).length - 1, "one nat table per family: " + r.out());
        assertTrue(r.out().contains("! -s 10.244.0.0/16 -j KUBE-MARK-MASQ"), r.out());
    }

    @Test
    void ipvsModeWithoutIpvsInTheKernelFailsStartupSayingSo() {
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.exists(Path.of("/proc/net/ip_vs")),
                "this kernel has IPVS loaded; the IPVS-less path cannot be shown here");
        // this runs in the test machine's own network namespace: leave its conntrack settings alone
        ProxyOptionsTest.Run r = ProxyOptionsTest.main("--proxy-mode=ipvs", "--manifests", "../examples/manifests",
                "--once", "--conntrack-max-per-core=0", "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("--proxy-mode=ipvs") && r.err().contains("IPVS is not available"), r.err());
        assertTrue(r.err().contains("ip_vs"), "names the missing module: " + r.err());
    }

    @Test
    void dryRunCleanupTouchesNothingAndSucceeds() {
        ProxyOptionsTest.Run r = ProxyOptionsTest.main("--cleanup", "--dry-run");
        assertEquals(0, r.status(), r.err());
    }

    @Test
    void runsUntilStoppedSyncingEveryChangeAndLeavesOnStop(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        CountDownLatch stop = new CountDownLatch(1);
        CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() -> Main.run(new String[] {
                "--manifests=" + dir, "--dry-run", "--iptables-min-sync-period=100ms", "--hostname-override=n1"},
                print, print, stop));
        Poll.until("the first sync", () -> text(out).contains("*nat"));
        assertFalse(text(out).contains("10.96.7.7"));

        Files.writeString(dir.resolve("s.yaml"), FileSourceTest.service("late", "10.96.7.7", 80, "TCP"));
        Poll.until("a sync with the new Service", () -> text(out).contains("\"ns/late:p has no endpoints\""));

        stop.countDown();
        assertEquals(0, status.get(10, TimeUnit.SECONDS));
    }

    private static String text(ByteArrayOutputStream out) {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Upstream's chain name: prefix + first 16 chars of base32(sha256(name + protocol)). */
    static String chain(String prefix, String servicePortName, String protocol) throws Exception {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest((servicePortName + protocol).getBytes(StandardCharsets.UTF_8));
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        StringBuilder b = new StringBuilder(prefix);
        int buffer = 0;
        int bits = 0;
        for (byte x : hash) {
            buffer = (buffer << 8) | (x & 0xff);
            bits += 8;
            while (bits >= 5 && b.length() < prefix.length() + 16) {
                b.append(alphabet.charAt((buffer >> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        return b.toString();
    }
}
