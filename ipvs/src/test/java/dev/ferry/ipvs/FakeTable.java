package dev.ferry.ipvs;

import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An in-memory IPVS table for unit tests: records every write as a line ("add service TCP 10.96.0.10:80", ...)
 * and refuses, like the kernel would, adding what exists or changing what does not; {@link #failOn} makes one
 * operation line fail.
 */
class FakeTable implements IpvsTable {

    final Map<ServiceKey, VirtualServer> services = new LinkedHashMap<>();
    final Map<ServiceKey, Map<DestKey, RealServer>> dests = new LinkedHashMap<>();
    final List<String> writes = new ArrayList<>();
    final Set<String> failing = new HashSet<>();
    boolean failListing;

    FakeTable failOn(String operation) {
        failing.add(operation);
        return this;
    }

    /** Sets a real server's connection counts, as traffic would. */
    void connections(VirtualServer vs, String address, int port, int active, int inactive) {
        DestKey key = new DestKey(Snapshots.ip(address), port);
        RealServer rs = dests.get(ServiceKey.of(vs)).get(key);
        dests.get(ServiceKey.of(vs)).put(key, new RealServer(rs.address(), rs.port(), rs.weight(), rs.forwardMethod(),
                active, inactive));
    }

    RealServer dest(VirtualServer vs, String address, int port) {
        return dests.getOrDefault(ServiceKey.of(vs), Map.of()).get(new DestKey(Snapshots.ip(address), port));
    }

    @Override
    public List<VirtualServer> services() throws IOException {
        if (failListing) {
            throw new IOException("list IPVS services: Operation not permitted (EPERM, errno 1)");
        }
        return List.copyOf(services.values());
    }

    @Override
    public List<RealServer> realServers(VirtualServer vs) throws IOException {
        check("list real servers " + ServiceKey.of(vs));
        return List.copyOf(dests.getOrDefault(ServiceKey.of(vs), Map.of()).values());
    }

    @Override
    public void addService(VirtualServer vs) throws IOException {
        String op = write("add service " + ServiceKey.of(vs));
        if (services.putIfAbsent(ServiceKey.of(vs), vs) != null) {
            throw new IOException(op + ": File exists");
        }
        dests.put(ServiceKey.of(vs), new LinkedHashMap<>());
    }

    @Override
    public void updateService(VirtualServer vs) throws IOException {
        String op = write("update service " + ServiceKey.of(vs) + " " + vs.scheduler() + " "
                + vs.persistenceTimeoutSeconds());
        if (services.replace(ServiceKey.of(vs), vs) == null) {
            throw new IOException(op + ": No such process");
        }
    }

    @Override
    public void deleteService(VirtualServer vs) throws IOException {
        String op = write("delete service " + ServiceKey.of(vs));
        if (services.remove(ServiceKey.of(vs)) == null) {
            throw new IOException(op + ": No such process");
        }
        dests.remove(ServiceKey.of(vs));
    }

    @Override
    public void addRealServer(VirtualServer vs, RealServer rs) throws IOException {
        String op = write("add real server " + DestKey.of(rs) + " w" + rs.weight() + " of " + ServiceKey.of(vs));
        Map<DestKey, RealServer> of = existing(vs, op);
        if (of.putIfAbsent(DestKey.of(rs), rs) != null) {
            throw new IOException(op + ": File exists");
        }
    }

    @Override
    public void updateRealServer(VirtualServer vs, RealServer rs) throws IOException {
        String op = write("update real server " + DestKey.of(rs) + " w" + rs.weight() + " of " + ServiceKey.of(vs));
        Map<DestKey, RealServer> of = existing(vs, op);
        RealServer old = of.get(DestKey.of(rs));
        if (old == null) {
            throw new IOException(op + ": No such file or directory");
        }
        of.put(DestKey.of(rs), new RealServer(rs.address(), rs.port(), rs.weight(), rs.forwardMethod(),
                old.activeConnections(), old.inactiveConnections()));
    }

    @Override
    public void deleteRealServer(VirtualServer vs, RealServer rs) throws IOException {
        String op = write("delete real server " + DestKey.of(rs) + " of " + ServiceKey.of(vs));
        if (existing(vs, op).remove(DestKey.of(rs)) == null) {
            throw new IOException(op + ": No such file or directory");
        }
    }

    private Map<DestKey, RealServer> existing(VirtualServer vs, String op) throws IOException {
        Map<DestKey, RealServer> of = dests.get(ServiceKey.of(vs));
        if (of == null) {
            throw new IOException(op + ": No such process");
        }
        return of;
    }

    private String write(String op) throws IOException {
        check(op);
        writes.add(op);
        return op;
    }

    private void check(String op) throws IOException {
        if (failing.contains(op)) {
            throw new IOException(op + ": Cannot allocate memory (ENOMEM, errno 12)");
        }
    }
}
