package dev.ferry.proxy.config;

import dev.ferry.proxy.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exiting when the config file changes, as upstream does (so the DaemonSet restarts with the new ConfigMap). */
class ConfigFileWatchTest {

    @TempDir
    Path dir;

    @Test
    void onlyNewContentCountsAndOnlyOnce() throws Exception {
        Path f = Files.writeString(dir.resolve("c.yaml"), "a: 1\n");
        AtomicInteger calls = new AtomicInteger();
        ConfigFileWatch w = ConfigFileWatch.unscheduled(f, Files.readAllBytes(f), calls::incrementAndGet);
        w.check();
        Files.writeString(f, "a: 1\n"); // rewritten, same bytes
        w.check();
        Files.delete(f); // a ConfigMap volume between two symlinks
        w.check();
        assertEquals(0, calls.get());
        Files.writeString(f, "a: 2\n");
        w.check();
        assertEquals(1, calls.get());
        Files.writeString(f, "a: 3\n");
        w.check();
        assertEquals(1, calls.get(), "once");
    }

    @Test
    void aSymlinkSwapLikeAConfigMapVolumeIsAChange() throws Exception {
        Path v1 = Files.createDirectory(dir.resolve("..v1"));
        Path v2 = Files.createDirectory(dir.resolve("..v2"));
        Files.writeString(v1.resolve("config.conf"), "mode: iptables\n");
        Files.writeString(v2.resolve("config.conf"), "mode: ipvs\n");
        Path data = Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        Path conf = Files.createSymbolicLink(dir.resolve("config.conf"), Path.of("..data/config.conf"));
        AtomicInteger calls = new AtomicInteger();
        ConfigFileWatch w = ConfigFileWatch.unscheduled(conf, Files.readAllBytes(conf), calls::incrementAndGet);
        Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
        Files.move(tmp, data, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        w.check();
        assertEquals(1, calls.get());
    }

    @Test
    void theRunningProxyExitsWith1WhenItsConfigFileChanges() throws Exception {
        Path config = Files.writeString(dir.resolve("config.yaml"), KubeProxyConfigFileTest.HEAD + "clusterCIDR: 10.244.0.0/16\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        CountDownLatch stop = new CountDownLatch(1);
        // the dry run touches nothing and prints each sync: a real daemon, safe anywhere
        CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() -> Main.run(new String[] {
                "--config=" + config, "--manifests=../examples/manifests", "--dry-run", "--hostname-override=node-1",
                "--healthz-bind-address=", "--metrics-bind-address="}, print, print, stop));
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!out.toString(StandardCharsets.UTF_8).contains("*nat") && System.nanoTime() < deadline) {
                assertTrue(!status.isDone(), "ended early: " + out);
                TimeUnit.MILLISECONDS.sleep(20); // polling a condition with a deadline, not synchronising
            }
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("! -s 10.244.0.0/16 -j KUBE-MARK-MASQ"),
                    "the file's cluster CIDR is in the rules: " + out);
            Files.writeString(config, KubeProxyConfigFileTest.HEAD + "clusterCIDR: 10.9.0.0/16\n");
            assertEquals(1, status.get(60, TimeUnit.SECONDS));
        } finally {
            stop.countDown();
        }
    }
}
