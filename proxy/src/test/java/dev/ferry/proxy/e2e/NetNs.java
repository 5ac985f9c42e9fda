package dev.ferry.proxy.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** One network namespace created by a test, and commands run inside it via {@code ip netns exec}. */
final class NetNs {
    private final String name;

    private NetNs(String name) {
        this.name = name;
    }

    /** Creates the namespace with its loopback up. The caller deletes it ({@link #delete()}). */
    static NetNs create(String name) {
        if (!name.matches("[a-z0-9-]{1,40}")) {
            throw new IllegalArgumentException("bad namespace name: " + name);
        }
        Proc.check(List.of("ip", "netns", "add", name));
        NetNs ns = new NetNs(name);
        ns.check("ip", "link", "set", "lo", "up");
        return ns;
    }

    String name() {
        return name;
    }

    /** argv prefixed so that it runs inside this namespace. */
    List<String> argv(String... command) {
        return argv(List.of(command));
    }

    List<String> argv(List<String> command) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", name));
        argv.addAll(command);
        return argv;
    }

    Proc.Result run(String... command) {
        return Proc.run(argv(command));
    }

    Proc.Result run(Duration timeout, List<String> command) {
        return Proc.run(timeout, argv(command));
    }

    Proc.Result check(String... command) {
        return Proc.check(argv(command));
    }

    /** A long-running process inside the namespace ({@code ip netns exec} execs, so the pid is the command's). */
    Proc start(List<String> command) {
        return Proc.start(argv(command));
    }

    Proc start(List<String> command, boolean keepStdin) {
        return Proc.start(argv(command), keepStdin);
    }

    /** {@code iptables-save} of this namespace (all tables). */
    String iptablesSave() {
        return check("iptables-save").out();
    }

    /** Best-effort delete; kills nothing (processes are the caller's). */
    void delete() {
        Proc.run(List.of("ip", "netns", "delete", name));
    }

    @Override
    public String toString() {
        return name;
    }
}
