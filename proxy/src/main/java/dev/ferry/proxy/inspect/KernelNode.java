package dev.ferry.proxy.inspect;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.nativeio.AddressFamily;
import dev.ferry.nativeio.NetlinkSocket;
import dev.ferry.nativeio.ctnetlink.Conntrack;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.CommandRunners;
import dev.ferry.netfilter.Iptables;
import dev.ferry.netfilter.LocalAddresses;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The real node this JVM runs on (its network namespace): iptables-save and ip route run as
 * argument lists, conntrack read over netlink (a mode reads its own kernel objects, such as the
 * IPVS table, itself). Single-threaded: one command at a time.
 */
final class KernelNode implements NodeState {

    private static final CommandRunner COMMANDS = CommandRunners.process(Duration.ofSeconds(30));

    @Override
    public String iptablesSave(IpFamily family) throws IOException {
        return new Iptables(family, COMMANDS).saveText();
    }

    @Override
    public boolean hasLink(String name) {
        try {
            return NetworkInterface.getByName(name) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    @Override
    public List<ConntrackFlow> conntrack(IpFamily family) throws IOException {
        requireNetlink();
        try (Conntrack ct = Conntrack.open()) {
            return ct.list(AddressFamily.of(family.af()));
        }
    }

    @Override
    public List<InetAddress> localAddresses() throws IOException {
        return LocalAddresses.ofThisMachine().addresses();
    }

    @Override
    public Optional<String> routeInterface(InetAddress address) {
        try {
            String out = run(List.of("ip", "-o", "route", "get", IpAddresses.format(address)));
            String[] words = out.strip().split("\\s+");
            for (int i = 0; i + 1 < words.length; i++) {
                if (words[i].equals("dev")) {
                    return Optional.of(words[i + 1]);
                }
            }
        } catch (IOException e) {
            // no route, or no ip tool: the caller says the interface is unknown
        }
        return Optional.empty();
    }

    /** A plain HTTP/1.0 GET, so that no HTTP client library is needed for one short answer. */
    @Override
    public Optional<String> proxyModeEndpoint() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), 10249), 500);
            s.setSoTimeout(1000);
            s.getOutputStream().write("GET /proxyMode HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readNBytes(4096), StandardCharsets.UTF_8);
            int body = reply.indexOf("\r\n\r\n");
            if (!reply.startsWith("HTTP/1.") || !reply.contains(" 200 ") || body < 0) {
                return Optional.empty();
            }
            String mode = reply.substring(body + 4).strip();
            return mode.isEmpty() ? Optional.empty() : Optional.of(mode);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static void requireNetlink() throws IOException {
        if (!NetlinkSocket.isAvailable()) {
            throw new IOException("netlink is not available: " + NetlinkSocket.unavailabilityCause());
        }
    }

    /** Runs a read-only command (an argument list) through the proxy's own runner, bounded by its timeout. */
    private static String run(List<String> argv) throws IOException {
        CommandRunner.Result r = COMMANDS.run(argv, new byte[0]);
        if (r.exitCode() != 0) {
            throw new IOException(String.join(" ", argv) + " exited " + r.exitCode() + ": " + r.stderr().strip());
        }
        return r.stdout();
    }
}
