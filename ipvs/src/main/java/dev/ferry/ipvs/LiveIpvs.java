package dev.ferry.ipvs;

import dev.ferry.ipvs.netlink.IpvsClient;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import dev.ferry.nativeio.NetlinkSocket;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.CommandRunners;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the inspection tools read of ipvs mode on the live node: the IPVS table and the ipsets;
 * the kernel's, or a test's. Every method reads afresh.
 */
public interface LiveIpvs {

    /** Whether an IPVS table can be read at all (the ip_vs module is loaded). */
    boolean available();

    /** Every virtual server with its real servers, in the kernel's order. */
    Map<VirtualServer, List<RealServer>> table() throws IOException;

    /** {@code ipset save} output (every set; empty when there is none). */
    String ipsetSave() throws IOException;

    /** This machine's: the table over generic netlink, the sets through {@code ipset save}. */
    static LiveIpvs kernel() {
        return new LiveIpvs() {
            @Override
            public boolean available() {
                return Files.exists(Path.of("/proc/net/ip_vs"));
            }

            @Override
            public String ipsetSave() throws IOException {
                CommandRunner.Result r = CommandRunners.process(Duration.ofSeconds(30)).run(List.of("ipset", "save"), null);
                if (!r.ok()) {
                    throw new IOException("ipset save exited " + r.exitCode() + ": " + r.stderr().strip());
                }
                return r.stdout();
            }

            @Override
            public Map<VirtualServer, List<RealServer>> table() throws IOException {
                if (!NetlinkSocket.isAvailable()) {
                    throw new IOException("netlink is not available: " + NetlinkSocket.unavailabilityCause());
                }
                Map<VirtualServer, List<RealServer>> table = new LinkedHashMap<>();
                try (IpvsClient client = IpvsClient.open()) {
                    for (VirtualServer vs : client.services()) {
                        table.put(vs, client.realServers(vs));
                    }
                }
                return table;
            }
        };
    }
}
