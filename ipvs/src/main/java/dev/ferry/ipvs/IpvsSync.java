package dev.ferry.ipvs;

import dev.ferry.core.Cidr;
import dev.ferry.core.Protocol;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Makes the kernel's IPVS table match an {@link IpvsPlan} by comparing, never by flushing: adds what is missing,
 * updates a service whose scheduler, flags or persistence differ and a real server whose weight differs, deletes
 * stale services we own, and drains real servers no longer wanted.
 *
 * <p>Ownership: upstream deletes every service of its family outside --ipvs-exclude-cidrs (cleanLegacyService). We
 * are stricter, as we own only what we program: a stale service is deleted only when it is outside the excluded
 * CIDRs and its address is one we manage (a planned address, one the caller names, typically kube-ipvs0's current
 * addresses and the node's NodePort addresses) or it was planned by an earlier apply of this instance.
 *
 * <p>Graceful termination (upstream's graceful_termination.go): an unwanted TCP real server with active or inactive
 * connections gets weight 0 and stays; each later apply deletes it once both counts are 0. UDP and SCTP real servers,
 * and TCP ones without connections, are deleted at once. A draining server that is wanted again goes back to
 * weight 1. The state lives in the kernel (weight and counts), so a restart loses nothing.
 *
 * <p>Threads: the sync thread only; not thread-safe. Failures: each kernel operation that fails is reported in the
 * result naming the service port and virtual server, and the rest of the apply goes on; a failed listing of the
 * services changes nothing. Nothing throws out of {@link #apply}; the next apply compares again.
 */
final class IpvsSync {

    private final IpvsTable table;
    private final List<Cidr> excludeCidrs;
    /** Services the last apply planned (or failed to delete): still ours even when their address is no longer. */
    private Set<ServiceKey> ours = Set.of();

    IpvsSync(IpvsTable table, List<Cidr> excludeCidrs) {
        this.table = Objects.requireNonNull(table, "table");
        this.excludeCidrs = List.copyOf(excludeCidrs);
    }

    /**
     * Brings the table of {@code plan}'s family in line with the plan.
     *
     * @param managedAddresses addresses whose stale services are ours to delete besides the plan's own
     */
    IpvsSyncReport apply(IpvsPlan plan, Set<InetAddress> managedAddresses) {
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(managedAddresses, "managedAddresses");
        try {
            return new Run(plan, managedAddresses).run();
        } catch (RuntimeException e) { // this step failed: the backend reports it and goes on with the next
            return IpvsSyncReport.failed("IPVS sync: " + e);
        }
    }

    private final class Run {
        private final IpvsPlan plan;
        private final Set<InetAddress> managed;
        private final List<String> errors = new ArrayList<>();
        private int servicesAdded;
        private int servicesUpdated;
        private int servicesDeleted;
        private int realServersAdded;
        private int realServersUpdated;
        private int realServersDeleted;
        private int draining;

        Run(IpvsPlan plan, Set<InetAddress> managedAddresses) {
            this.plan = plan;
            this.managed = new HashSet<>(managedAddresses);
            this.managed.addAll(plan.serviceAddresses());
        }

        IpvsSyncReport run() {
            Map<ServiceKey, VirtualServer> current = new LinkedHashMap<>();
            try {
                for (VirtualServer vs : table.services()) {
                    if (vs.family() == plan.family()) {
                        current.put(ServiceKey.of(vs), vs);
                    }
                }
            } catch (IOException | RuntimeException e) {
                return IpvsSyncReport.failed(message(e));
            }
            Set<ServiceKey> nextOurs = new HashSet<>();
            for (PlannedService planned : plan.services()) {
                ServiceKey key = ServiceKey.of(planned.virtualServer());
                nextOurs.add(key);
                syncService(planned, current.get(key));
            }
            for (Map.Entry<ServiceKey, VirtualServer> e : current.entrySet()) {
                ServiceKey key = e.getKey();
                if (plan.service(key) != null || !owned(key)) {
                    continue;
                }
                try {
                    table.deleteService(e.getValue());
                    servicesDeleted++;
                } catch (IOException | RuntimeException ex) {
                    errors.add("stale virtual server " + key + ": " + message(ex));
                    nextOurs.add(key); // try again next time even if its address is gone by then
                }
            }
            ours = nextOurs;
            return new IpvsSyncReport(servicesAdded, servicesUpdated, servicesDeleted, realServersAdded,
                    realServersUpdated, realServersDeleted, draining, errors);
        }

        private boolean owned(ServiceKey key) {
            for (Cidr cidr : excludeCidrs) {
                if (cidr.contains(key.address())) {
                    return false;
                }
            }
            return managed.contains(key.address()) || ours.contains(key);
        }

        private void syncService(PlannedService planned, VirtualServer existing) {
            VirtualServer vs = planned.virtualServer();
            List<RealServer> current;
            try {
                if (existing == null) {
                    table.addService(vs);
                    servicesAdded++;
                    current = List.of();
                } else {
                    if (!existing.equals(vs)) {
                        table.updateService(vs);
                        servicesUpdated++;
                    }
                    current = table.realServers(vs);
                }
            } catch (IOException | RuntimeException e) {
                errors.add(planned.label() + ": " + message(e));
                return;
            }
            Map<DestKey, RealServer> wanted = new LinkedHashMap<>();
            for (RealServer rs : planned.realServers()) {
                wanted.put(DestKey.of(rs), rs);
            }
            for (RealServer rs : current) {
                RealServer want = wanted.remove(DestKey.of(rs));
                try {
                    if (want == null) {
                        retire(vs, rs);
                    } else if (rs.weight() != want.weight() || rs.forwardMethod() != want.forwardMethod()) {
                        // a draining server that came back, or one changed behind our back
                        table.updateRealServer(vs, want);
                        realServersUpdated++;
                    }
                } catch (IOException | RuntimeException e) {
                    errors.add(planned.label() + ": " + message(e));
                }
            }
            for (RealServer rs : wanted.values()) {
                try {
                    table.addRealServer(vs, rs);
                    realServersAdded++;
                } catch (IOException | RuntimeException e) {
                    errors.add(planned.label() + ": " + message(e));
                }
            }
        }

        /** Graceful termination of one unwanted real server. */
        private void retire(VirtualServer vs, RealServer rs) throws IOException {
            boolean graceful = vs.protocol() == Protocol.TCP; // UDP, SCTP: expire_nodest_conn ends their flows
            if (!graceful || rs.activeConnections() + rs.inactiveConnections() == 0) {
                table.deleteRealServer(vs, rs);
                realServersDeleted++;
                return;
            }
            if (rs.weight() != 0) {
                table.updateRealServer(vs, RealServer.of(rs.address(), rs.port(), 0));
                realServersUpdated++;
            }
            draining++;
        }
    }

    private static String message(Exception e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.toString() : m;
    }
}
