package dev.ferry.ipvs.netlink;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One IPVS virtual service, identified by family, protocol, address and port (firewall-mark services are not
 * ours and are not represented).
 *
 * @param flags                     IP_VS_SVC_F_* bits other than persistence (e.g. {@link #FLAG_SH_PORT});
 *                                  persistence is {@code persistenceTimeoutSeconds}, and the kernel's own
 *                                  "hashed" bit is never part of a service
 * @param persistenceTimeoutSeconds 0 = no persistence; otherwise the service is persistent (ClientIP affinity)
 *                                  for that many seconds
 * @param netmask                   the persistence netmask as a prefix length (IPv4 0..32, IPv6 1..128); clients
 *                                  in one such network share a real server
 */
public record VirtualServer(IpFamily family, Protocol protocol, InetAddress address, int port, String scheduler,
                            int flags, int persistenceTimeoutSeconds, int netmask) {

    /** IP_VS_SVC_F_PERSISTENT: expressed here by a positive persistence timeout. */
    static final int FLAG_PERSISTENT = 0x1;
    /** IP_VS_SVC_F_HASHED: the kernel's bookkeeping, set on every service it lists. */
    static final int FLAG_HASHED = 0x2;
    public static final int FLAG_ONE_PACKET = 0x4;
    /** IP_VS_SVC_F_SCHED1: for sh, fall back to another server when the chosen one is unavailable. */
    public static final int FLAG_SH_FALLBACK = 0x8;
    /** IP_VS_SVC_F_SCHED2: for sh, hash the source port too. */
    public static final int FLAG_SH_PORT = 0x10;
    public static final int FLAG_SCHED3 = 0x20;

    /** IP_VS_SCHEDNAME_MAXLEN is 16 bytes including the terminating NUL. */
    static final int SCHEDULER_NAME_MAX = 15;

    public VirtualServer {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(scheduler, "scheduler");
        String what = "virtual server " + protocol + " " + IpAddresses.hostPort(address, port);
        if (IpFamily.of(address) != family) {
            throw new IllegalArgumentException(what + ": address is " + IpFamily.of(address) + ", family says " + family);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(what + ": port " + port + " out of range 1..65535");
        }
        int schedulerBytes = scheduler.getBytes(StandardCharsets.UTF_8).length;
        if (scheduler.isEmpty() || schedulerBytes > SCHEDULER_NAME_MAX || scheduler.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + ": scheduler \"" + scheduler
                    + "\" must be 1.." + SCHEDULER_NAME_MAX + " bytes without NUL");
        }
        if ((flags & (FLAG_PERSISTENT | FLAG_HASHED)) != 0) {
            throw new IllegalArgumentException(what + ": flags 0x" + Integer.toHexString(flags)
                    + " carry the persistent or hashed bit; give persistenceTimeoutSeconds instead");
        }
        if (persistenceTimeoutSeconds < 0) {
            throw new IllegalArgumentException(what + ": persistence timeout " + persistenceTimeoutSeconds + " < 0");
        }
        int maxPrefix = family.bits();
        int minPrefix = family == IpFamily.IPV4 ? 0 : 1; // the kernel refuses an IPv6 prefix of 0
        if (netmask < minPrefix || netmask > maxPrefix) {
            throw new IllegalArgumentException(what + ": netmask /" + netmask + " out of range "
                    + minPrefix + ".." + maxPrefix);
        }
    }

    /** A service without persistence or flags, family taken from the address, full-length netmask. */
    public static VirtualServer of(Protocol protocol, InetAddress address, int port, String scheduler) {
        IpFamily family = IpFamily.of(Objects.requireNonNull(address, "address"));
        return new VirtualServer(family, protocol, address, port, scheduler, 0, 0, family.bits());
    }

    /** This service with persistence (ClientIP affinity) for {@code seconds}; 0 turns it off. */
    public VirtualServer withPersistence(int seconds) {
        return new VirtualServer(family, protocol, address, port, scheduler, flags, seconds, netmask);
    }

    public VirtualServer withScheduler(String name) {
        return new VirtualServer(family, protocol, address, port, name, flags, persistenceTimeoutSeconds, netmask);
    }

    /** "TCP 10.96.0.10:80", "UDP [fd00::a]:53": how error messages name the service. */
    String label() {
        return protocol + " " + IpAddresses.hostPort(address, port);
    }
}
