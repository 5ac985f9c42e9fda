package dev.ferry.ipvs;

import dev.ferry.ipvs.netlink.IpvsClient;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import dev.ferry.nativeio.NetlinkSocket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the live IPVS table for the inspection tools; the kernel's, or a test's. */
public interface IpvsTableReader {

    /** Whether an IPVS table can be read at all (the ip_vs module is loaded). */
    boolean available();

    /** Every virtual server with its real servers, in the kernel's order. */
    Map<VirtualServer, List<RealServer>> read() throws IOException;

    /** This machine's table, over generic netlink. */
    static IpvsTableReader kernel() {
        return new IpvsTableReader() {
            @Override
            public boolean available() {
                return Files.exists(Path.of("/proc/net/ip_vs"));
            }

            @Override
            public Map<VirtualServer, List<RealServer>> read() throws IOException {
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
