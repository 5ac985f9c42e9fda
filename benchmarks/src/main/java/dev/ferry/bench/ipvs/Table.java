package dev.ferry.bench.ipvs;

import dev.ferry.core.Protocol;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The benchmark's IPVS table: {@code services} TCP virtual services on port 80 (scheduler rr), VIPs counted up from
 * 10.96.0.1, each with {@code reals} masquerading real servers of weight 1 on port 8080, real server addresses
 * counted up from 10.128.0.1 (every one distinct). The same table as our records and as ipvsadm restore lines.
 */
record Table(int services, int reals) {

    static final int VIP_BASE = (10 << 24) | (96 << 16);
    static final int RIP_BASE = (10 << 24) | (128 << 16);
    static final int PORT = 80;
    static final int TARGET_PORT = 8080;

    Table {
        if (services < 1 || services > 1 << 20 || reals < 0 || (long) services * reals > 1 << 22) {
            throw new IllegalArgumentException("services " + services + " x real servers " + reals
                    + ": out of range (1..2^20 services, at most 2^22 real servers)");
        }
    }

    VirtualServer service(int i) {
        return VirtualServer.of(Protocol.TCP, address(VIP_BASE + i + 1), PORT, "rr");
    }

    RealServer real(int i, int j) {
        return RealServer.of(address(RIP_BASE + i * reals + j + 1), TARGET_PORT, 1);
    }

    /** ipvsadm --restore input: one -A line per service, then its -a lines. */
    String restoreText() {
        StringBuilder s = new StringBuilder(services * (32 + reals * 48));
        for (int i = 0; i < services; i++) {
            String vip = dotted(VIP_BASE + i + 1) + ":" + PORT;
            s.append("-A -t ").append(vip).append(" -s rr\n");
            for (int j = 0; j < reals; j++) {
                s.append("-a -t ").append(vip).append(" -r ").append(dotted(RIP_BASE + i * reals + j + 1))
                        .append(':').append(TARGET_PORT).append(" -m -w 1\n");
            }
        }
        return s.toString();
    }

    long realServerCount() {
        return (long) services * reals;
    }

    static String dotted(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    private static InetAddress address(int a) {
        try {
            byte[] bytes = {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a};
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }
}
