package dev.ferry.bench.ipvs;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A new network namespace inside the guest, held open by a sleeping process ({@code unshare -n}: the shell runs in
 * the new namespace under the same pid, brings lo up, says "ready" and becomes sleep), so that it has its own empty
 * IPVS table and, what matters here, its own empty destination trash: the kernel keeps every deleted real server in
 * a per-namespace trash for minutes (IP_VS_DEST_TRASH_PERIOD, 120 s) and every real server added meanwhile scans
 * that whole list, so a load that follows a flush of 100,000 real servers in the same namespace is many times
 * slower, whoever sends it.
 *
 * <p>Used from the guest side's single thread. {@link #close} kills the holder; the kernel then frees the namespace.
 */
final class FreshNetns implements AutoCloseable {

    private final Process holder;

    private FreshNetns(Process holder) {
        this.holder = holder;
    }

    static FreshNetns create() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("unshare", "-n", "sh", "-c",
                "ip link set lo up && echo ready && exec sleep 1000000")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try (BufferedReader out = p.inputReader(StandardCharsets.US_ASCII)) {
            String line = out.readLine(); // blocks until the shell answers or exits
            if (!"ready".equals(line)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new IOException("unshare -n did not set up a network namespace (said " + line + ", exit "
                        + (p.isAlive() ? "none" : p.exitValue()) + ")");
            }
        }
        return new FreshNetns(p);
    }

    /** /proc/PID/ns/net of the holder: what IpvsClient.open and nsenter take. */
    Path file() {
        return Path.of("/proc", Long.toString(holder.pid()), "ns", "net");
    }

    /** {@code command} run inside this namespace through nsenter (a few milliseconds of exec on top). */
    List<String> inside(String... command) {
        List<String> out = new ArrayList<>(List.of("nsenter", "--net=" + file()));
        out.addAll(List.of(command));
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        holder.destroy();
        if (!holder.waitFor(10, TimeUnit.SECONDS)) {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
