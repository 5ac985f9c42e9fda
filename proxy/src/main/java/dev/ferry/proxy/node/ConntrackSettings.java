package dev.ferry.proxy.node;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What upstream's kube-proxy (v1.34, cmd/kube-proxy/app/server_linux.go setupConntrack) asks of the
 * conntrack sysctls, from its flags or KubeProxyConfiguration's conntrack section after defaulting.
 *
 * @param maxPerCore     --conntrack-max-per-core; 0 leaves nf_conntrack_max (and --conntrack-min) alone
 * @param min            --conntrack-min, the floor of nf_conntrack_max
 * @param tcpEstablished nf_conntrack_tcp_timeout_established; zero leaves it alone
 * @param tcpCloseWait   nf_conntrack_tcp_timeout_close_wait; zero leaves it alone
 * @param tcpBeLiberal   true sets nf_conntrack_tcp_be_liberal to 1; false leaves it alone
 * @param udp            nf_conntrack_udp_timeout; zero leaves it alone
 * @param udpStream      nf_conntrack_udp_timeout_stream; zero leaves it alone
 */
public record ConntrackSettings(int maxPerCore, int min, Duration tcpEstablished, Duration tcpCloseWait,
                                boolean tcpBeLiberal, Duration udp, Duration udpStream) {

    static final String MAX = "net/netfilter/nf_conntrack_max";
    /** A module parameter under /sys/module/nf_conntrack/parameters: the table's hash buckets. */
    static final String HASHSIZE = "hashsize";

    /** One sysctl to set, and the flag that asks for it. */
    record Target(String sysctl, long value, String flag) {
    }

    public ConntrackSettings {
        if (maxPerCore < 0 || min < 0) {
            throw new IllegalArgumentException("negative conntrack size: " + maxPerCore + " per core, min " + min);
        }
        for (Duration d : List.of(tcpEstablished, tcpCloseWait, udp, udpStream)) {
            if (Objects.requireNonNull(d, "timeout").isNegative()) {
                throw new IllegalArgumentException("negative conntrack timeout " + d);
            }
        }
    }

    /**
     * nf_conntrack_max for a machine with {@code cpus} CPUs, as upstream's getConntrackMax: per core
     * times CPUs, at least the minimum; 0 (leave it alone) when per core is 0. v1.34 has no upper
     * cap (the 1,048,576 cap came in v1.36).
     */
    long max(int cpus) {
        if (cpus < 1) {
            throw new IllegalArgumentException("cpus " + cpus);
        }
        if (maxPerCore == 0) {
            return 0;
        }
        long scaled = (long) maxPerCore * cpus;
        return scaled > min ? scaled : min;
    }

    /**
     * The other sysctls, in upstream's order, each only when asked for: a timeout greater than zero
     * (in whole seconds, truncated as upstream does), be-liberal when true.
     */
    List<Target> others() {
        List<Target> out = new ArrayList<>();
        timeout(out, "net/netfilter/nf_conntrack_tcp_timeout_established", tcpEstablished,
                "--conntrack-tcp-timeout-established");
        timeout(out, "net/netfilter/nf_conntrack_tcp_timeout_close_wait", tcpCloseWait, "--conntrack-tcp-timeout-close-wait");
        if (tcpBeLiberal) {
            out.add(new Target("net/netfilter/nf_conntrack_tcp_be_liberal", 1, "--conntrack-tcp-be-liberal"));
        }
        timeout(out, "net/netfilter/nf_conntrack_udp_timeout", udp, "--conntrack-udp-timeout");
        timeout(out, "net/netfilter/nf_conntrack_udp_timeout_stream", udpStream, "--conntrack-udp-timeout-stream");
        return out;
    }

    private static void timeout(List<Target> out, String sysctl, Duration d, String flag) {
        if (!d.isZero()) {
            out.add(new Target(sysctl, d.getSeconds(), flag));
        }
    }
}
