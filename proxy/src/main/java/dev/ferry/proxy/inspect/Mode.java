package dev.ferry.proxy.inspect;

import dev.ferry.core.IpFamily;
import dev.ferry.iptables.ChainNames;
import dev.ferry.iptables.IptablesDump;

import java.io.IOException;
import java.util.Locale;
import java.util.Optional;

/**
 * The proxy mode whose rules the tools read. Given by --proxy-mode, or detected on the live
 * node: the running proxy's /proxyMode answer when there is one, else what is programmed
 * (kube-ipvs0 or an IPVS service: ipvs; portal chains: userspace; KUBE-SERVICES in nat: iptables).
 */
enum Mode {
    IPTABLES, IPVS, USERSPACE;

    String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Mode parse(String text) {
        for (Mode m : values()) {
            if (m.flagValue().equals(text)) {
                return m;
            }
        }
        throw new IllegalArgumentException("--proxy-mode: \"" + text + "\" is not one of iptables, ipvs, userspace");
    }

    /** How the mode was found, for the report's header. */
    record Detected(Mode mode, String how) {
    }

    /** @throws IOException when nothing on the node tells the mode */
    static Detected detect(LiveNode node) throws IOException {
        Optional<String> served = node.proxyModeEndpoint();
        if (served.isPresent()) {
            try {
                return new Detected(parse(served.get()), "the proxy's /proxyMode on 127.0.0.1:10249");
            } catch (IllegalArgumentException unknown) {
                // another answer (e.g. nftables from upstream): fall back to what is programmed
            }
        }
        if (node.hasLink("kube-ipvs0")) {
            return new Detected(IPVS, "link kube-ipvs0 exists");
        }
        if (node.hasIpvs() && !node.ipvsTable().isEmpty()) {
            return new Detected(IPVS, "the IPVS table has services");
        }
        IptablesDump.Table nat = IptablesDump.parse(node.iptablesSave(IpFamily.IPV4)).table("nat");
        if (nat.has(ChainNames.PORTALS_CONTAINER) || nat.has(ChainNames.PORTALS_HOST)) {
            return new Detected(USERSPACE, "nat chain " + ChainNames.PORTALS_CONTAINER + " exists");
        }
        if (nat.has(ChainNames.SERVICES)) {
            return new Detected(IPTABLES, "nat chain " + ChainNames.SERVICES + " exists");
        }
        throw new IOException("cannot tell the proxy mode: no proxy answers on 127.0.0.1:10249, no kube-ipvs0, no IPVS"
                + " service, no KUBE-SERVICES or KUBE-PORTALS-* chain in nat; give --proxy-mode");
    }
}
