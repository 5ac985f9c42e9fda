package dev.ferry.ipvs;

import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.io.IOException;
import java.util.List;

/**
 * The kernel's IPVS table as the sync sees it: {@link ClientTable} over our netlink client in production, a map in
 * unit tests. A refusal is an IOException whose message names the object.
 */
interface IpvsTable {

    List<VirtualServer> services() throws IOException;

    List<RealServer> realServers(VirtualServer vs) throws IOException;

    void addService(VirtualServer vs) throws IOException;

    void updateService(VirtualServer vs) throws IOException;

    void deleteService(VirtualServer vs) throws IOException;

    void addRealServer(VirtualServer vs, RealServer rs) throws IOException;

    void updateRealServer(VirtualServer vs, RealServer rs) throws IOException;

    void deleteRealServer(VirtualServer vs, RealServer rs) throws IOException;

    /**
     * Deletes every virtual server of both families, ours or not (upstream's --cleanup: ipvs.Flush()). The kernel
     * does it in one command; this default, for tables without one, deletes them one by one.
     */
    default void flush() throws IOException {
        for (VirtualServer vs : services()) {
            deleteService(vs);
        }
    }
}
