package dev.ferry.userspace;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.core.ServicePort;
import dev.ferry.netfilter.LineBuffer;
import dev.ferry.netfilter.RuleText;

import java.net.InetAddress;
import java.util.Optional;

/**
 * One service port's portal rules (upstream userspace mode's layout), appended to the portal
 * chains' buffers. Traffic from other hosts and pods is REDIRECTed to the proxy port on the
 * address it arrived at; traffic the node sends itself is DNATed to the host address instead,
 * because a REDIRECTed local packet goes to loopback and its replies would come from the wrong
 * source. Pure: no I/O.
 */
final class PortalPortRules {

    /** The buffers of the five portal chains, one write's worth. */
    record Chains(LineBuffer portalsContainer, LineBuffer portalsHost, LineBuffer nodePortContainer,
                  LineBuffer nodePortHost, LineBuffer nonLocal) {
    }

    private PortalPortRules() {
    }

    /**
     * Appends the rules of {@code portal}: for the ClusterIP and each load-balancer IP of the
     * family a container and a host portal; for each external IP a container portal for traffic
     * not bridged in, one for traffic to a local address, and a host portal for a local address
     * (upstream's external-IP rules); for a NodePort a container and a host rule and the filter
     * ACCEPT of the proxy port.
     *
     * @param hostAddress DNAT target of the host portals, of {@code family}
     * @return why the port gets no portals (nothing was written then), or null
     */
    static String write(IpFamily family, Portal portal, InetAddress hostAddress, Chains out) {
        ServicePort port = portal.port();
        if (port.protocol() != Protocol.TCP && port.protocol() != Protocol.UDP) {
            return port.name() + ": protocol " + port.protocol()
                    + " is not supported in userspace mode (TCP and UDP only); its portals are skipped";
        }
        String protocol = port.protocol().lower();
        String comment = RuleText.comment(port.name().toString());
        String redirect = Integer.toString(portal.proxyPort());
        String dnat = IpAddresses.hostPort(hostAddress, portal.proxyPort());
        String host = family.hostSuffix();

        Optional<InetAddress> clusterIP = port.clusterIP(family);
        if (clusterIP.isPresent()) {
            pair(out, IpAddresses.format(clusterIP.get()) + host, protocol, comment, port.port(), redirect, dnat);
        }
        for (InetAddress ip : port.externalIPs()) {
            if (!family.contains(ip)) {
                continue;
            }
            String dest = IpAddresses.format(ip) + host;
            start(out.portalsContainer(), PortalChains.PORTALS_CONTAINER, dest, protocol, comment, port.port())
                    .add("-m", "physdev").add("!").add("--physdev-is-in").add("-j", "REDIRECT")
                    .add("--to-ports", redirect).end();
            start(out.portalsContainer(), PortalChains.PORTALS_CONTAINER, dest, protocol, comment, port.port())
                    .add("-m", "addrtype").add("--dst-type", "LOCAL").add("-j", "REDIRECT")
                    .add("--to-ports", redirect).end();
            start(out.portalsHost(), PortalChains.PORTALS_HOST, dest, protocol, comment, port.port())
                    .add("-m", "addrtype").add("--dst-type", "LOCAL").add("-j", "DNAT")
                    .add("--to-destination", dnat).end();
        }
        for (InetAddress ip : port.loadBalancerIPs()) {
            if (family.contains(ip)) {
                pair(out, IpAddresses.format(ip) + host, protocol, comment, port.port(), redirect, dnat);
            }
        }
        if (port.nodePort() != 0) {
            // The jumps into the NodePort chains match local destinations only (addrtype LOCAL).
            start(out.nodePortContainer(), PortalChains.NODEPORT_CONTAINER, null, protocol, comment, port.nodePort())
                    .add("-j", "REDIRECT").add("--to-ports", redirect).end();
            start(out.nodePortHost(), PortalChains.NODEPORT_HOST, null, protocol, comment, port.nodePort())
                    .add("-j", "DNAT").add("--to-destination", dnat).end();
            start(out.nonLocal(), PortalChains.NODEPORT_NON_LOCAL, null, protocol, comment, portal.proxyPort())
                    .add("-m", "state").add("--state", "NEW").add("-j", "ACCEPT").end();
        }
        return null;
    }

    private static void pair(Chains out, String dest, String protocol, String comment, int port,
                             String redirect, String dnat) {
        start(out.portalsContainer(), PortalChains.PORTALS_CONTAINER, dest, protocol, comment, port)
                .add("-j", "REDIRECT").add("--to-ports", redirect).end();
        start(out.portalsHost(), PortalChains.PORTALS_HOST, dest, protocol, comment, port)
                .add("-j", "DNAT").add("--to-destination", dnat).end();
    }

    /** "-A CHAIN [-d DEST] -p P -m comment --comment C -m P --dport PORT", in iptables-save's order. */
    private static LineBuffer start(LineBuffer b, String chain, String dest, String protocol, String comment, int port) {
        b.start("-A").add(chain);
        if (dest != null) {
            b.add("-d", dest);
        }
        return b.add("-p", protocol).add("-m", "comment").add("--comment", comment).add("-m", protocol)
                .add("--dport").addInt(port);
    }
}
