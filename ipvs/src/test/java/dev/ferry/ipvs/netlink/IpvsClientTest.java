package dev.ferry.ipvs.netlink;

import dev.ferry.nativeio.Errno;
import dev.ferry.nativeio.NetlinkException;
import dev.ferry.nativeio.NetlinkSocket;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** On this machine's kernel, which has no IPVS: opening a client says so and why. (The rest is IpvsClientIT.) */
class IpvsClientTest {

    @Test
    void withoutIpvsOpeningSaysTheModuleIsMissing() {
        assumeTrue(NetlinkSocket.isAvailable(), NetlinkSocket::unavailabilityCause);
        assumeFalse(Files.exists(Path.of("/proc/net/ip_vs")), "this kernel has IPVS loaded");
        NetlinkException e = assertThrows(NetlinkException.class, IpvsClient::open);
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("look up generic netlink family IPVS (is the ip_vs module loaded?): No such file or directory"
                + " (ENOENT, errno 2)", e.getMessage());
    }
}
