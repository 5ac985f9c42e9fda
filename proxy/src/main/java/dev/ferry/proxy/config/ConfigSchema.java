package dev.ferry.proxy.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Upstream's KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1), field by field, as the
 * union of the releases an operator's ConfigMap may come from (fields removed upstream since,
 * such as udpIdleTimeout and resourceContainer, still load). A field not listed here is unknown
 * and fails the load, as upstream's strict decoding does.
 *
 * <p>Each leaf either sets the same option as one of our flags, or is accepted and ignored
 * because nothing in ferry acts on it (a warning names it when it carries a value other than
 * its zero or upstream's default).
 */
final class ConfigSchema {

    static final String API_VERSION = "kubeproxy.config.k8s.io/v1alpha1";
    static final String KIND = "KubeProxyConfiguration";

    /** The JSON type a field has upstream, and so in the file. */
    enum Kind {
        STRING, BOOL, INT, NUMBER, DURATION, STRING_LIST, BOOL_MAP,
        /** Structured or loosely typed upstream (logging options); only ever ignored. */
        ANY
    }

    /**
     * One leaf.
     *
     * @param flag the flag whose option this field sets; null when ignored
     * @param zeroMeansDefault upstream's defaulting replaces a zero value ("", 0s) by the default,
     *        so a zero here leaves the flag's default in place
     * @param upstreamDefault for ignored fields: a value no warning is worth (upstream's default,
     *        as upstream's own --write-config-to writes it); null when only the zero value is
     */
    record Field(String path, Kind kind, String flag, boolean zeroMeansDefault, Object upstreamDefault) {
        boolean ignored() {
            return flag == null;
        }
    }

    /** Object-valued fields: their children are listed by path. */
    static final Set<String> OBJECTS = Set.of("clientConnection", "logging", "iptables", "ipvs", "nftables", "winkernel",
            "detectLocal", "conntrack");

    /** Checked on its own: only the one mode we implement is accepted. */
    static final String DETECT_LOCAL_MODE = "detectLocalMode";

    static final Map<String, Field> FIELDS;

    static {
        Map<String, Field> f = new LinkedHashMap<>();
        // where the API server is, who we are
        flag(f, "clientConnection.kubeconfig", Kind.STRING, "--kubeconfig");
        ignored(f, "clientConnection.acceptContentTypes", Kind.STRING, null);
        ignored(f, "clientConnection.contentType", Kind.STRING, "application/vnd.kubernetes.protobuf");
        ignored(f, "clientConnection.qps", Kind.NUMBER, 5);
        ignored(f, "clientConnection.burst", Kind.INT, 10);
        flag(f, "hostnameOverride", Kind.STRING, "--hostname-override");
        flag(f, "bindAddress", Kind.STRING, "--bind-address");
        flag(f, "healthzBindAddress", Kind.STRING, "--healthz-bind-address");
        flag(f, "metricsBindAddress", Kind.STRING, "--metrics-bind-address");
        flag(f, "mode", Kind.STRING, "--proxy-mode");
        // iptables mode (masqueradeBit, masqueradeAll and the cluster CIDR serve ipvs mode too)
        flag(f, "iptables.masqueradeBit", Kind.INT, "--iptables-masquerade-bit");
        flag(f, "iptables.masqueradeAll", Kind.BOOL, "--masquerade-all");
        flag(f, "iptables.localhostNodePorts", Kind.BOOL, "--iptables-localhost-nodeports");
        zeroIsDefault(f, "iptables.syncPeriod", "--iptables-sync-period");
        zeroIsDefault(f, "iptables.minSyncPeriod", "--iptables-min-sync-period");
        ignored(f, "iptables.snatNodeInternalIP", Kind.BOOL, null);
        // ipvs mode
        zeroIsDefault(f, "ipvs.syncPeriod", "--ipvs-sync-period");
        flag(f, "ipvs.minSyncPeriod", Kind.DURATION, "--ipvs-min-sync-period");
        flag(f, "ipvs.scheduler", Kind.STRING, "--ipvs-scheduler");
        flag(f, "ipvs.excludeCIDRs", Kind.STRING_LIST, "--ipvs-exclude-cidrs");
        flag(f, "ipvs.strictARP", Kind.BOOL, "--ipvs-strict-arp");
        flag(f, "ipvs.tcpTimeout", Kind.DURATION, "--ipvs-tcp-timeout");
        flag(f, "ipvs.tcpFinTimeout", Kind.DURATION, "--ipvs-tcpfin-timeout");
        flag(f, "ipvs.udpTimeout", Kind.DURATION, "--ipvs-udp-timeout");
        // userspace mode (portRange and udpIdleTimeout are upstream's userspace-mode fields)
        flag(f, "portRange", Kind.STRING, "--proxy-port-range");
        zeroIsDefault(f, "udpIdleTimeout", "--udp-timeout");
        // traffic from pods, NodePorts
        flag(f, "clusterCIDR", Kind.STRING, "--cluster-cidr");
        flag(f, "nodePortAddresses", Kind.STRING_LIST, "--nodeport-addresses");
        flag(f, "conntrack.tcpEstablishedTimeout", Kind.DURATION, "--conntrack-tcp-timeout-established");
        // logging: upstream's logsapi fields we have flags for
        flag(f, "logging.format", Kind.STRING, "--logging-format");
        flag(f, "logging.verbosity", Kind.INT, "--v");
        ignored(f, "logging.flushFrequency", Kind.ANY, null);
        ignored(f, "logging.vmodule", Kind.ANY, null);
        ignored(f, "logging.options", Kind.ANY, null);
        // accepted, not acted on
        ignored(f, "featureGates", Kind.BOOL_MAP, null);
        ignored(f, "bindAddressHardFail", Kind.BOOL, null);
        ignored(f, "enableProfiling", Kind.BOOL, null);
        ignored(f, "showHiddenMetricsForVersion", Kind.STRING, null);
        ignored(f, "oomScoreAdj", Kind.INT, -999);
        ignored(f, "configSyncPeriod", Kind.DURATION, "15m0s");
        ignored(f, "conntrack.max", Kind.INT, null);
        ignored(f, "conntrack.maxPerCore", Kind.INT, 32768);
        ignored(f, "conntrack.min", Kind.INT, 131072);
        ignored(f, "conntrack.tcpCloseWaitTimeout", Kind.DURATION, "1h0m0s");
        ignored(f, "conntrack.tcpBeLiberal", Kind.BOOL, null);
        ignored(f, "conntrack.udpTimeout", Kind.DURATION, null);
        ignored(f, "conntrack.udpStreamTimeout", Kind.DURATION, null);
        ignored(f, "detectLocal.bridgeInterface", Kind.STRING, null);
        ignored(f, "detectLocal.interfaceNamePrefix", Kind.STRING, null);
        ignored(f, "nftables.masqueradeBit", Kind.INT, 14);
        ignored(f, "nftables.masqueradeAll", Kind.BOOL, null);
        ignored(f, "nftables.syncPeriod", Kind.DURATION, "30s");
        ignored(f, "nftables.minSyncPeriod", Kind.DURATION, "1s");
        ignored(f, "winkernel.networkName", Kind.STRING, null);
        ignored(f, "winkernel.sourceVip", Kind.STRING, null);
        ignored(f, "winkernel.enableDSR", Kind.BOOL, null);
        ignored(f, "winkernel.rootHnsEndpointName", Kind.STRING, null);
        ignored(f, "winkernel.forwardHealthCheckVip", Kind.BOOL, null);
        ignored(f, "windowsRunAsService", Kind.BOOL, null);
        ignored(f, "resourceContainer", Kind.STRING, "/kube-proxy");
        FIELDS = Collections.unmodifiableMap(f);
    }

    private ConfigSchema() {
    }

    private static void flag(Map<String, Field> f, String path, Kind kind, String flag) {
        f.put(path, new Field(path, kind, flag, false, null));
    }

    private static void zeroIsDefault(Map<String, Field> f, String path, String flag) {
        f.put(path, new Field(path, Kind.DURATION, flag, true, null));
    }

    private static void ignored(Map<String, Field> f, String path, Kind kind, Object upstreamDefault) {
        f.put(path, new Field(path, kind, null, false, upstreamDefault));
    }

    /** The field that sets {@code flag}'s option, or null. */
    static Field forFlag(String flag) {
        for (Field field : FIELDS.values()) {
            if (flag.equals(field.flag())) {
                return field;
            }
        }
        return null;
    }
}
