package dev.ferry.ipvs;

import dev.ferry.ipvs.netlink.IpvsClient;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.io.IOException;
import java.util.List;
import java.util.Objects;

/** {@link IpvsTable} over {@link IpvsClient}; the client stays the caller's to close. */
final class ClientTable implements IpvsTable {

    private final IpvsClient client;

    ClientTable(IpvsClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    @Override
    public List<VirtualServer> services() throws IOException {
        return client.services();
    }

    @Override
    public List<RealServer> realServers(VirtualServer vs) throws IOException {
        return client.realServers(vs);
    }

    @Override
    public void addService(VirtualServer vs) throws IOException {
        client.addService(vs);
    }

    @Override
    public void updateService(VirtualServer vs) throws IOException {
        client.updateService(vs);
    }

    @Override
    public void deleteService(VirtualServer vs) throws IOException {
        client.deleteService(vs);
    }

    @Override
    public void addRealServer(VirtualServer vs, RealServer rs) throws IOException {
        client.addRealServer(vs, rs);
    }

    @Override
    public void updateRealServer(VirtualServer vs, RealServer rs) throws IOException {
        client.updateRealServer(vs, rs);
    }

    @Override
    public void deleteRealServer(VirtualServer vs, RealServer rs) throws IOException {
        client.deleteRealServer(vs, rs);
    }

    @Override
    public void flush() throws IOException {
        client.flush();
    }
}
