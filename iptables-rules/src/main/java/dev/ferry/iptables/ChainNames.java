package dev.ferry.iptables;

import dev.ferry.core.Endpoint;
import dev.ferry.core.ServicePortName;
import dev.ferry.netfilter.JumpRule;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Upstream's chain names, so a node moved between kube-proxy and us keeps (and cleans up) the
 * same chains: prefix + the first 16 characters of base32(sha256(text)), where text is the
 * service port name ("ns/svc:port") followed by the lower-case protocol, and for endpoint
 * chains also by the endpoint's "ip:port".
 */
public final class ChainNames {

    public static final String SERVICES = "KUBE-SERVICES";
    public static final String EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES";
    public static final String NODE_PORTS = "KUBE-NODEPORTS";
    public static final String POSTROUTING = "KUBE-POSTROUTING";
    public static final String MARK_MASQ = "KUBE-MARK-MASQ";
    public static final String FORWARD = "KUBE-FORWARD";
    public static final String PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
    public static final String KUBELET_FIREWALL = "KUBE-FIREWALL";
    /** Empty chain in mangle, nat and filter; when it is gone, someone flushed our rules. */
    public static final String CANARY = "KUBE-PROXY-CANARY";

    static final String SVC_PREFIX = "KUBE-SVC-";
    static final String SVL_PREFIX = "KUBE-SVL-";
    static final String EXT_PREFIX = "KUBE-EXT-";
    static final String FW_PREFIX = "KUBE-FW-";
    static final String SEP_PREFIX = "KUBE-SEP-";

    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private ChainNames() {
    }

    /** KUBE-SVC-…: endpoints for Cluster traffic policy. */
    public static String service(ServicePortName name) {
        return SVC_PREFIX + portHash(name);
    }

    /** KUBE-SVL-…: endpoints for Local traffic policy. */
    public static String serviceLocal(ServicePortName name) {
        return SVL_PREFIX + portHash(name);
    }

    /** KUBE-EXT-…: entry for NodePort, external IP and load-balancer traffic. */
    public static String external(ServicePortName name) {
        return EXT_PREFIX + portHash(name);
    }

    /** KUBE-FW-…: loadBalancerSourceRanges filter. */
    public static String firewall(ServicePortName name) {
        return FW_PREFIX + portHash(name);
    }

    /** KUBE-SEP-…: one endpoint of one service port. */
    public static String endpoint(ServicePortName name, Endpoint endpoint) {
        return SEP_PREFIX + hash16(name.toString() + name.protocol().lower() + endpoint.hostPort());
    }

    /** A per-service or per-endpoint chain (the kind a sync deletes when no longer used). */
    public static boolean isServiceChain(String chain) {
        return chain.startsWith(SVC_PREFIX) || chain.startsWith(SVL_PREFIX) || chain.startsWith(EXT_PREFIX)
                || chain.startsWith(FW_PREFIX) || chain.startsWith(SEP_PREFIX);
    }

    /**
     * Chains this mode creates that no other mode uses, removed when a node switches to another
     * mode. Not KUBE-MARK-MASQ (older kubelets share it; upstream leaves it too), not kubelet's
     * KUBE-FIREWALL / KUBE-KUBELET-CANARY / KUBE-MARK-DROP.
     */
    public static boolean isIptablesModeChain(String chain) {
        return isServiceChain(chain) || chain.equals(SERVICES) || chain.equals(EXTERNAL_SERVICES)
                || chain.equals(NODE_PORTS) || chain.equals(POSTROUTING) || chain.equals(FORWARD)
                || chain.equals(PROXY_FIREWALL) || chain.equals(CANARY);
    }

    private static final List<String> NEW_ONLY = List.of("-m", "conntrack", "--ctstate", "NEW");

    /**
     * The jumps from built-in chains into ours, upstream's list in upstream's order (each is
     * prepended in turn, so the last ends up first).
     */
    static final List<JumpRule> JUMPS = List.of(
            new JumpRule("filter", "INPUT", EXTERNAL_SERVICES, "kubernetes externally-visible service portals", NEW_ONLY),
            new JumpRule("filter", "FORWARD", EXTERNAL_SERVICES, "kubernetes externally-visible service portals", NEW_ONLY),
            new JumpRule("filter", "INPUT", NODE_PORTS, "kubernetes health check service ports", List.of()),
            new JumpRule("filter", "FORWARD", SERVICES, "kubernetes service portals", NEW_ONLY),
            new JumpRule("filter", "OUTPUT", SERVICES, "kubernetes service portals", NEW_ONLY),
            new JumpRule("filter", "FORWARD", FORWARD, "kubernetes forwarding rules", List.of()),
            new JumpRule("filter", "INPUT", PROXY_FIREWALL, "kubernetes load balancer firewall", NEW_ONLY),
            new JumpRule("filter", "OUTPUT", PROXY_FIREWALL, "kubernetes load balancer firewall", NEW_ONLY),
            new JumpRule("filter", "FORWARD", PROXY_FIREWALL, "kubernetes load balancer firewall", NEW_ONLY),
            new JumpRule("nat", "OUTPUT", SERVICES, "kubernetes service portals", List.of()),
            new JumpRule("nat", "PREROUTING", SERVICES, "kubernetes service portals", List.of()),
            new JumpRule("nat", "POSTROUTING", POSTROUTING, "kubernetes postrouting rules", List.of()),
            // Kubelet's anti-martian chain, which upstream kube-proxy also ensures.
            new JumpRule("filter", "INPUT", KUBELET_FIREWALL, "", List.of()),
            new JumpRule("filter", "OUTPUT", KUBELET_FIREWALL, "", List.of()));


    private static String portHash(ServicePortName name) {
        return hash16(name.toString() + name.protocol().lower());
    }

    /** getInstance looks the provider up every time; one digest per thread is reused instead. */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JVM has SHA-256", e);
        }
    });

    static String hash16(String text) {
        byte[] digest = SHA256.get().digest(text.getBytes(StandardCharsets.UTF_8));
        char[] out = new char[16];
        base32Of10(digest, out, 0);
        return new String(out);
    }

    /**
     * The 16 hash characters of a service port (the same for its SVC, SVL, EXT and FW chains):
     * hash once, prefix four times.
     *
     * @param key the port's hash input ("ns/svc:port" + lower-case protocol), UTF-8
     */
    static String portHash(byte[] key) {
        MessageDigest sha = SHA256.get();
        sha.update(key);
        byte[] digest = sha.digest();
        char[] out = new char[16];
        base32Of10(digest, out, 0);
        return new String(out);
    }

    /** Per-thread scratch for {@link #endpoint(byte[], String)}: digest output and name characters. */
    private static final ThreadLocal<byte[]> DIGEST = ThreadLocal.withInitial(() -> new byte[32]);

    /**
     * {@link #endpoint(ServicePortName, Endpoint)} without building the hash input: the port's
     * key bytes (see {@link #portHash(byte[])}) then the endpoint's "ip:port" (ASCII) are fed to
     * the digest as they are; only the name itself is allocated.
     */
    static String endpoint(byte[] portKey, String hostPort) {
        MessageDigest sha = SHA256.get();
        sha.update(portKey);
        for (int i = 0; i < hostPort.length(); i++) {
            char c = hostPort.charAt(i);
            if (c >= 0x80) { // cannot happen ("ip:port" / "[ip]:port" is ASCII), but stay exact
                sha.reset();
                sha.update(portKey);
                sha.update(hostPort.getBytes(StandardCharsets.UTF_8));
                break;
            }
            sha.update((byte) c);
        }
        byte[] digest = DIGEST.get();
        try {
            sha.digest(digest, 0, 32);
        } catch (java.security.DigestException e) {
            throw new AssertionError("SHA-256 is 32 bytes", e);
        }
        byte[] out = new byte[SEP_PREFIX.length() + 16];
        for (int i = 0; i < SEP_PREFIX.length(); i++) {
            out[i] = (byte) SEP_PREFIX.charAt(i);
        }
        long bits = 0;
        int count = 0;
        int at = SEP_PREFIX.length();
        for (int i = 0; i < 10; i++) {
            bits = (bits << 8) | (digest[i] & 0xff);
            count += 8;
            while (count >= 5) {
                out[at++] = (byte) BASE32[(int) (bits >>> (count - 5)) & 31];
                count -= 5;
            }
        }
        return new String(out, StandardCharsets.ISO_8859_1); // ASCII: copied as is, no compression pass
    }

    /** 16 base32 characters are 80 bits: the first 10 bytes, 5 bits at a time. */
    private static void base32Of10(byte[] digest, char[] out, int at) {
        long bits = 0;
        int count = 0;
        for (int i = 0; i < 10; i++) {
            bits = (bits << 8) | (digest[i] & 0xff);
            count += 8;
            while (count >= 5) {
                out[at++] = BASE32[(int) (bits >>> (count - 5)) & 31];
                count -= 5;
            }
        }
    }
}
