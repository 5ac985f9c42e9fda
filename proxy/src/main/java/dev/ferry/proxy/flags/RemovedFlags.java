package dev.ferry.proxy.flags;

import dev.ferry.mode.FlagNames;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Flags older kube-proxy command lines carry that v1.34 no longer has and ferry has no use for:
 * cadvisor's --boot-id-file and --machine-id-file, and --resource-container (removed long ago; kops
 * passed {@code --resource-container=""}). Hidden from --help, each given one is accepted with a warning.
 */
public final class RemovedFlags implements FlagGroup {

    static final String BOOT_ID_FILE = "--boot-id-file";
    static final String MACHINE_ID_FILE = "--machine-id-file";
    static final String RESOURCE_CONTAINER = "--resource-container";

    @Option(names = BOOT_ID_FILE, hidden = true, paramLabel = "FILES")
    String bootIdFile;

    @Option(names = MACHINE_ID_FILE, hidden = true, paramLabel = "FILES")
    String machineIdFile;

    @Option(names = RESOURCE_CONTAINER, hidden = true, paramLabel = "CGROUP")
    String resourceContainer;

    @Override
    public List<String> warnings(FlagNames names, Predicate<String> given) {
        List<String> out = new ArrayList<>();
        for (String flag : List.of(BOOT_ID_FILE, MACHINE_ID_FILE)) {
            if (given.test(flag)) {
                out.add(flag + " is ignored: a cadvisor flag kube-proxy v1.34 no longer has; nothing in a node proxy reads it");
            }
        }
        if (given.test(RESOURCE_CONTAINER)) {
            out.add(RESOURCE_CONTAINER + " is ignored: a flag of old kube-proxy releases; ferry stays in the cgroup it is "
                    + "started in");
        }
        return out;
    }
}
