package dev.ferry.nftables;

import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The tables upstream kube-proxy's nftables mode programs, {@code ip kube-proxy} and
 * {@code ip6 kube-proxy}, and their removal: the only nf_tables objects this program owns. Left on
 * a node after a swap from an nftables-mode kube-proxy they keep DNATing Services to the endpoints
 * of the day it stopped, so every mode deletes them at start and --cleanup deletes them, as
 * upstream's modes remove each other's leftovers. Nothing else in nf_tables is ever touched.
 */
public final class KubeProxyTables {

    private static final Logger LOG = LoggerFactory.getLogger(KubeProxyTables.class);

    public static final String NAME = "kube-proxy";

    /** ip kube-proxy, ip6 kube-proxy. */
    public static final List<Table> ALL = List.of(new Table(TableFamily.IPV4, NAME), new Table(TableFamily.IPV6, NAME));

    /** Opens the connection to the namespace to clean; tests give one to theirs. */
    interface Opener {
        Nftables open() throws IOException;
    }

    private KubeProxyTables() {
    }

    /**
     * Deletes both tables of this network namespace where they exist, each in a transaction of its
     * own. Logs one info line per table deleted; nothing for an absent one, nor when the kernel has
     * no nf_tables (where none can exist); one warning with the reason when a table could not be
     * deleted (the tables after it are not tried: the reason is nearly always the same, a missing
     * CAP_NET_ADMIN). Never throws.
     *
     * @return true when neither table is left, false when one may be
     */
    public static boolean remove() {
        return remove(Nftables::open);
    }

    static boolean remove(Opener opener) {
        List<Table> left = new ArrayList<>(ALL);
        if (!Nftables.isAvailable()) {
            warn(left, Nftables.unavailabilityCause());
            return false;
        }
        try (Nftables nft = opener.open()) {
            while (!left.isEmpty()) {
                Table table = left.get(0);
                if (nft.deleteIfExists(table)) {
                    LOG.info("deleted nftables {}, left by an nftables-mode kube-proxy", table);
                }
                left.remove(0);
            }
            return true;
        } catch (IOException | RuntimeException e) {
            if (noNfTables(e)) {
                LOG.debug("no nf_tables in this kernel, so no nftables-mode kube-proxy tables: {}", e.getMessage());
                return true;
            }
            warn(left, e.getMessage());
            return false;
        }
    }

    private static void warn(List<Table> left, String reason) {
        String tables = left.stream().map(Table::toString).collect(Collectors.joining(" and "));
        LOG.warn("cannot delete nftables {}, which an nftables-mode kube-proxy may have left (such a table keeps "
                + "sending Service traffic to old endpoints): {}", tables, reason);
    }

    /**
     * The kernel has no nf_tables at all: no nfnetlink (the socket fails with EPROTONOSUPPORT), or no
     * nf_tables subsystem (nfnetlink refuses the batch with EOPNOTSUPP; deleting a table has no
     * EOPNOTSUPP of its own). No table can exist then.
     */
    private static boolean noNfTables(Exception e) {
        return e instanceof NetlinkException n
                && (n.errno() == Errno.EPROTONOSUPPORT || n.errno() == Errno.EOPNOTSUPP);
    }
}
