package dev.ferry.proxy.config;

import dev.ferry.mode.ConfigField;
import dev.ferry.mode.ConfigField.Kind;
import dev.ferry.mode.ProxyMode;
import dev.ferry.proxy.modes.ProxyModes;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Upstream's KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1), field by field, as the
 * union of the releases an operator's ConfigMap may come from: the fields every mode shares here,
 * each mode's section from its registration (fields removed upstream since,
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

    /** The schema of this build's modes. */
    static final ConfigSchema BUILT_IN = of(ProxyModes.builtIn());

    private final Map<String, ConfigField> fields;
    private final Set<String> objects;

    private ConfigSchema(Map<String, ConfigField> fields) {
        this.fields = Collections.unmodifiableMap(fields);
        Set<String> objects = new LinkedHashSet<>();
        for (String path : fields.keySet()) {
            for (int dot = path.indexOf('.'); dot > 0; dot = path.indexOf('.', dot + 1)) {
                objects.add(path.substring(0, dot));
            }
        }
        this.objects = Collections.unmodifiableSet(objects);
    }

    /** Every field, in the order of upstream's type; each mode's own after the shared ones. */
    Map<String, ConfigField> fields() {
        return fields;
    }

    /** Object-valued fields (every parent of a field's path): their children are listed by path. */
    Set<String> objects() {
        return objects;
    }

    /**
     * The shared fields and each mode's own. A mode's field may take the place of a shared one that
     * is only a placeholder (ignored: a section no mode implemented yet, e.g. nftables.*); a mode
     * claiming a field another mode or the daemon acts on is a bug.
     */
    static ConfigSchema of(ProxyModes modes) {
        Map<String, ConfigField> f = new LinkedHashMap<>();
        // where the API server is, who we are
        flag(f, "clientConnection.kubeconfig", Kind.STRING, "--kubeconfig");
        ignored(f, "clientConnection.acceptContentTypes", Kind.STRING, null);
        zeroIsDefault(f, "clientConnection.contentType", Kind.STRING, "--kube-api-content-type");
        zeroIsDefault(f, "clientConnection.qps", Kind.NUMBER, "--kube-api-qps");
        zeroIsDefault(f, "clientConnection.burst", Kind.INT, "--kube-api-burst");
        zeroIsDefault(f, "configSyncPeriod", Kind.DURATION, "--config-sync-period");
        flag(f, "hostnameOverride", Kind.STRING, "--hostname-override");
        flag(f, "healthzBindAddress", Kind.STRING, "--healthz-bind-address");
        flag(f, "metricsBindAddress", Kind.STRING, "--metrics-bind-address");
        flag(f, "mode", Kind.STRING, "--proxy-mode");
        // the iptables section: the masquerade bit and masquerade-all every mode uses; the sync periods of
        // every mode without its own (ipvs mode has ipvs.syncPeriod)
        flag(f, "iptables.masqueradeBit", Kind.INT, "--iptables-masquerade-bit");
        flag(f, "iptables.masqueradeAll", Kind.BOOL, "--masquerade-all");
        zeroIsDefault(f, "iptables.syncPeriod", "--iptables-sync-period");
        zeroIsDefault(f, "iptables.minSyncPeriod", "--iptables-min-sync-period");
        // traffic from pods, NodePorts
        flag(f, "clusterCIDR", Kind.STRING, "--cluster-cidr");
        flag(f, "detectLocalMode", Kind.STRING, "--detect-local-mode");
        flag(f, "detectLocal.bridgeInterface", Kind.STRING, "--pod-bridge-interface");
        flag(f, "detectLocal.interfaceNamePrefix", Kind.STRING, "--pod-interface-name-prefix");
        flag(f, "nodePortAddresses", Kind.STRING_LIST, "--nodeport-addresses");
        // the node: conntrack sizing and timeouts, the OOM score (null: upstream's default; 0: leave alone)
        flag(f, "conntrack.maxPerCore", Kind.INT, "--conntrack-max-per-core");
        flag(f, "conntrack.min", Kind.INT, "--conntrack-min");
        flag(f, "conntrack.tcpEstablishedTimeout", Kind.DURATION, "--conntrack-tcp-timeout-established");
        flag(f, "conntrack.tcpCloseWaitTimeout", Kind.DURATION, "--conntrack-tcp-timeout-close-wait");
        flag(f, "conntrack.tcpBeLiberal", Kind.BOOL, "--conntrack-tcp-be-liberal");
        flag(f, "conntrack.udpTimeout", Kind.DURATION, "--conntrack-udp-timeout");
        flag(f, "conntrack.udpStreamTimeout", Kind.DURATION, "--conntrack-udp-timeout-stream");
        flag(f, "oomScoreAdj", Kind.INT, "--oom-score-adj");
        // logging: upstream's logsapi fields we have flags for
        flag(f, "logging.format", Kind.STRING, "--logging-format");
        flag(f, "logging.verbosity", Kind.INT, "--v");
        zeroIsDefault(f, "logging.flushFrequency", Kind.NANOS_OR_DURATION, "--log-flush-frequency");
        flag(f, "logging.vmodule", Kind.VMODULE_LIST, "--vmodule");
        flag(f, "logging.options.text.splitStream", Kind.BOOL, "--log-text-split-stream");
        zeroIsDefault(f, "logging.options.text.infoBufferSize", Kind.QUANTITY, "--log-text-info-buffer-size");
        flag(f, "logging.options.json.splitStream", Kind.BOOL, "--log-json-split-stream");
        zeroIsDefault(f, "logging.options.json.infoBufferSize", Kind.QUANTITY, "--log-json-info-buffer-size");
        ignored(f, "logging.sanitization", Kind.BOOL, null); // removed from logging in v1.28; older ConfigMaps have it
        // gates, servers
        flag(f, "featureGates", Kind.BOOL_MAP, "--feature-gates");
        flag(f, "bindAddressHardFail", Kind.BOOL, "--bind-address-hard-fail");
        flag(f, "enableProfiling", Kind.BOOL, "--profiling");
        flag(f, "showHiddenMetricsForVersion", Kind.STRING, "--show-hidden-metrics-for-version");
        // accepted, not acted on
        ignored(f, "conntrack.max", Kind.INT, null);
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
        // each mode's own section (or fields), as the mode registers them
        for (ProxyMode mode : modes.all()) {
            for (ConfigField field : mode.configFields()) {
                ConfigField before = f.put(field.path(), field);
                if (before != null && !before.ignored()) {
                    throw new IllegalStateException("mode " + mode.name() + " registers config field " + field.path()
                            + ", which is already " + before.flag() + "'s");
                }
            }
        }
        return new ConfigSchema(f);
    }

    private static void flag(Map<String, ConfigField> f, String path, Kind kind, String flag) {
        f.put(path, ConfigField.flag(path, kind, flag));
    }

    private static void zeroIsDefault(Map<String, ConfigField> f, String path, String flag) {
        f.put(path, ConfigField.zeroIsDefault(path, flag));
    }

    private static void zeroIsDefault(Map<String, ConfigField> f, String path, Kind kind, String flag) {
        f.put(path, ConfigField.zeroIsDefault(path, kind, flag));
    }

    private static void ignored(Map<String, ConfigField> f, String path, Kind kind, Object upstreamDefault) {
        f.put(path, ConfigField.ignored(path, kind, upstreamDefault));
    }
}
