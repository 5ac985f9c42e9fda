package dev.ferry.ipvs;

import java.util.List;

/**
 * What one {@link IpvsSync#apply} changed, and what failed (one line per failed operation, naming the service port
 * and the virtual server).
 *
 * @param realServersUpdated weights set back to 1 (a returning or foreign-weighted server) or to 0 (draining starts)
 * @param draining           real servers left in place at weight 0 because they still have connections; a later
 *                           apply deletes them once they have none
 */
record IpvsSyncReport(int servicesAdded, int servicesUpdated, int servicesDeleted, int realServersAdded,
                             int realServersUpdated, int realServersDeleted, int draining, List<String> errors) {

    IpvsSyncReport {
        errors = List.copyOf(errors);
    }

    boolean ok() {
        return errors.isEmpty();
    }

    /** Kernel writes this apply made. */
    int changes() {
        return servicesAdded + servicesUpdated + servicesDeleted + realServersAdded + realServersUpdated
                + realServersDeleted;
    }

    static IpvsSyncReport failed(String error) {
        return new IpvsSyncReport(0, 0, 0, 0, 0, 0, 0, List.of(error));
    }
}
