package dev.ferry.netfilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** A throwaway network namespace for privileged tests; close() deletes it. */
public final class NetNamespace implements AutoCloseable {

    public final String name;
    public final CommandRunner runner;

    private NetNamespace(String name) {
        this.name = name;
        this.runner = CommandRunners.prefixed(List.of("ip", "netns", "exec", name), CommandRunners.process());
    }

    public static boolean isRoot() {
        try {
            CommandRunner.Result r = CommandRunners.process().run(List.of("id", "-u"), null);
            return r.ok() && r.stdout().strip().equals("0");
        } catch (IOException e) {
            return false;
        }
    }

    public static NetNamespace create() throws IOException {
        String name = "fy-" + UUID.randomUUID().toString().substring(0, 8) + "-ipt";
        CommandRunner.Result r = CommandRunners.process().run(List.of("ip", "netns", "add", name), null);
        if (!r.ok()) {
            throw new IOException("ip netns add " + name + ": " + r.stderr());
        }
        return new NetNamespace(name);
    }

    /** Runs a command inside; fails the test when it fails. */
    public String exec(String stdin, String... argv) throws IOException {
        CommandRunner.Result r = runner.run(List.of(argv), stdin == null ? null : stdin.getBytes(StandardCharsets.UTF_8));
        if (!r.ok()) {
            throw new IOException(String.join(" ", argv) + " exited " + r.exitCode() + ": " + r.stderr());
        }
        return r.stdout();
    }

    /** iptables-save of the given tables, date comments removed. */
    public String save(String cmd, String... tables) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String t : tables) {
            for (String line : exec(null, cmd, "-t", t).split("\n")) {
                if (!line.startsWith("#")) {
                    sb.append(line).append('\n');
                }
            }
        }
        return sb.toString();
    }

    public List<String> lines(String text) {
        return new ArrayList<>(List.of(text.split("\n")));
    }

    @Override
    public void close() throws IOException {
        CommandRunners.process().run(List.of("ip", "netns", "del", name), null);
    }
}
