package dev.ferry.proxy.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.iptables.IptablesMode;
import dev.ferry.ipvs.IpvsMode;
import dev.ferry.ipvs.LiveIpvs;
import dev.ferry.ipvs.netlink.RealServer;
import dev.ferry.ipvs.netlink.VirtualServer;
import dev.ferry.nativeio.ctnetlink.ConntrackFlow;
import dev.ferry.proxy.modes.ProxyModes;
import dev.ferry.userspace.UserspaceMode;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A node as the tests set it up: fixed rules, IPVS table, flows, addresses and routes. */
final class FakeNode implements NodeState {
    final Map<IpFamily, String> saves = new HashMap<>();
    Map<VirtualServer, List<RealServer>> ipvs = new LinkedHashMap<>();
    boolean hasIpvs;
    final List<String> links = new ArrayList<>();
    final List<ConntrackFlow> flows = new ArrayList<>();
    final List<InetAddress> addresses = new ArrayList<>();
    final Map<InetAddress, String> routes = new HashMap<>();
    String ipsets = "";
    String proxyMode;

    @Override
    public String iptablesSave(IpFamily family) throws IOException {
        String s = saves.get(family);
        if (s == null) {
            throw new IOException((family == IpFamily.IPV4 ? "iptables-save" : "ip6tables-save") + ": not on this fake node");
        }
        return s;
    }

    /** The IPVS table and ipsets as ipvs mode's view reads them. */
    LiveIpvs ipvsTable() {
        return new LiveIpvs() {
            @Override
            public boolean available() {
                return hasIpvs;
            }

            @Override
            public String ipsetSave() {
                return ipsets;
            }

            @Override
            public Map<VirtualServer, List<RealServer>> table() throws IOException {
                if (!hasIpvs) {
                    throw new IOException("list IPVS services: the ip_vs module is not loaded");
                }
                return ipvs;
            }
        };
    }

    /** The built-in modes, ipvs mode reading this node's fake IPVS table. */
    ProxyModes modes() {
        return new ProxyModes(List.of(new IptablesMode(), new IpvsMode(ipvsTable()), new UserspaceMode()));
    }

    @Override
    public boolean hasLink(String name) {
        return links.contains(name);
    }

    @Override
    public List<ConntrackFlow> conntrack(IpFamily family) {
        return flows.stream().filter(f -> IpFamily.of(f.original().source()) == family).toList();
    }

    @Override
    public List<InetAddress> localAddresses() {
        return addresses;
    }

    @Override
    public Optional<String> routeInterface(InetAddress address) {
        return Optional.ofNullable(routes.get(address));
    }

    @Override
    public Optional<String> proxyModeEndpoint() {
        return Optional.ofNullable(proxyMode);
    }
}
