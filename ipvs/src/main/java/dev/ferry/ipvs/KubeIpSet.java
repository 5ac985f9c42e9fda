package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;

/**
 * The ipsets of upstream's IPVS mode (pkg/proxy/ipvs/ipset.go, ipsetInfo in proxier.go), in
 * upstream's order, with upstream's names, types and comments. The comment is not stored in the
 * kernel: upstream puts it into the iptables rule that matches the set.
 */
enum KubeIpSet {
    LOOP_BACK("KUBE-LOOP-BACK", Type.HASH_IP_PORT_IP,
            "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
    CLUSTER_IP("KUBE-CLUSTER-IP", Type.HASH_IP_PORT,
            "Kubernetes service cluster ip + port for masquerade purpose"),
    EXTERNAL_IP("KUBE-EXTERNAL-IP", Type.HASH_IP_PORT,
            "Kubernetes service external ip + port for masquerade and filter purpose"),
    EXTERNAL_IP_LOCAL("KUBE-EXTERNAL-IP-LOCAL", Type.HASH_IP_PORT,
            "Kubernetes service external ip + port with externalTrafficPolicy=local"),
    LOAD_BALANCER("KUBE-LOAD-BALANCER", Type.HASH_IP_PORT,
            "Kubernetes service lb portal"),
    LOAD_BALANCER_FW("KUBE-LOAD-BALANCER-FW", Type.HASH_IP_PORT,
            "Kubernetes service load balancer ip + port for load balancer with sourceRange"),
    LOAD_BALANCER_LOCAL("KUBE-LOAD-BALANCER-LOCAL", Type.HASH_IP_PORT,
            "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"),
    LOAD_BALANCER_SOURCE_IP("KUBE-LOAD-BALANCER-SOURCE-IP", Type.HASH_IP_PORT_IP,
            "Kubernetes service load balancer ip + port + source IP for packet filter purpose"),
    LOAD_BALANCER_SOURCE_CIDR("KUBE-LOAD-BALANCER-SOURCE-CIDR", Type.HASH_IP_PORT_NET,
            "Kubernetes service load balancer ip + port + source cidr for packet filter purpose"),
    NODE_PORT_TCP("KUBE-NODE-PORT-TCP", Type.BITMAP_PORT,
            "Kubernetes nodeport TCP port for masquerade purpose"),
    NODE_PORT_LOCAL_TCP("KUBE-NODE-PORT-LOCAL-TCP", Type.BITMAP_PORT,
            "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
    NODE_PORT_UDP("KUBE-NODE-PORT-UDP", Type.BITMAP_PORT,
            "Kubernetes nodeport UDP port for masquerade purpose"),
    NODE_PORT_LOCAL_UDP("KUBE-NODE-PORT-LOCAL-UDP", Type.BITMAP_PORT,
            "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
    NODE_PORT_SCTP("KUBE-NODE-PORT-SCTP-HASH", Type.HASH_IP_PORT,
            "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"),
    NODE_PORT_LOCAL_SCTP("KUBE-NODE-PORT-LOCAL-SCTP-HASH", Type.HASH_IP_PORT,
            "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"),
    HEALTH_CHECK_NODE_PORT("KUBE-HEALTH-CHECK-NODE-PORT", Type.BITMAP_PORT,
            "Kubernetes health check node port"),
    IPVS_IPS("KUBE-IPVS-IPS", Type.HASH_IP,
            "Addresses on the ipvs interface");

    /** ipset set types upstream uses, as ipset spells them. */
    enum Type {
        HASH_IP_PORT_IP("hash:ip,port,ip"),
        HASH_IP_PORT("hash:ip,port"),
        HASH_IP_PORT_NET("hash:ip,port,net"),
        BITMAP_PORT("bitmap:port"),
        HASH_IP("hash:ip");

        private final String text;

        Type(String text) {
            this.text = text;
        }

        String text() {
            return text;
        }
    }

    /** The kernel limits set names to 31 characters. */
    static final int MAX_NAME = 31;

    private final String baseName;
    private final Type type;
    private final String comment;

    KubeIpSet(String baseName, Type type, String comment) {
        this.baseName = baseName;
        this.type = type;
        this.comment = comment;
    }

    /**
     * The set's name for a family. IPv6 sets replace the "KUBE-" prefix with "KUBE-6-" so both
     * families can coexist, cut to 31 characters as upstream cuts them (NewIPSet in ipset.go):
     * e.g. KUBE-6-LOAD-BALANCER-SOURCE-CID.
     */
    String name(IpFamily family) {
        if (family == IpFamily.IPV4) {
            return baseName;
        }
        String v6 = "KUBE-6-" + baseName.substring("KUBE-".length());
        return v6.length() > MAX_NAME ? v6.substring(0, MAX_NAME) : v6;
    }

    Type type() {
        return type;
    }

    String comment() {
        return comment;
    }

    /**
     * The options after the type in "create", as upstream's ipset wrapper writes them: hash sets
     * get the family, hashsize 1024 and maxelem 65536; bitmap:port gets the whole port range.
     */
    String createOptions(IpFamily family) {
        if (type == Type.BITMAP_PORT) {
            return "range 0-65535";
        }
        return "family " + family.inetName() + " hashsize 1024 maxelem 65536";
    }

    /**
     * A scratch set of the same type, filled and then swapped with the live one so the live set
     * never goes empty. One per live set (a leftover from a crash then has the right type).
     */
    String scratchName(IpFamily family) {
        return (family == IpFamily.IPV4 ? "KUBE-TMP-SET-" : "KUBE-6-TMP-SET-") + ordinal();
    }
}
