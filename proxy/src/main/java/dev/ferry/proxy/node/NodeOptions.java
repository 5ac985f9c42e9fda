package dev.ferry.proxy.node;

import dev.ferry.mode.FlagConverters;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

/**
 * Upstream's node-level flags (a picocli mixin): conntrack table size and timeouts, the OOM score,
 * and --init-only. Names, defaults and ranges are kube-proxy v1.34's; {@link NodeSetup} applies them.
 */
public final class NodeOptions {

    @Option(names = "--conntrack-max-per-core", paramLabel = "N", defaultValue = "32768", converter = NonNegative.class,
            description = "Maximum number of NAT connections to track per CPU core (0 to leave the limit as-is and "
                    + "ignore --conntrack-min). Default: ${DEFAULT-VALUE}.")
    int maxPerCore;

    @Option(names = "--conntrack-min", paramLabel = "N", defaultValue = "131072", converter = NonNegative.class,
            description = "Minimum number of conntrack entries to allocate, regardless of --conntrack-max-per-core "
                    + "(set --conntrack-max-per-core=0 to leave the limit as-is). Default: ${DEFAULT-VALUE}.")
    int min;

    @Option(names = "--conntrack-tcp-timeout-established", paramLabel = "DURATION", defaultValue = "24h",
            converter = FlagConverters.DurationConverter.class,
            description = "Idle timeout for established TCP connections (0 to leave as-is); userspace mode also closes "
                    + "both sides of a connection idle this long. Default: ${DEFAULT-VALUE}.")
    Duration tcpEstablished;

    @Option(names = "--conntrack-tcp-timeout-close-wait", paramLabel = "DURATION", defaultValue = "1h",
            converter = FlagConverters.DurationConverter.class,
            description = "NAT timeout for TCP connections in the CLOSE_WAIT state (0 to leave as-is). "
                    + "Default: ${DEFAULT-VALUE}.")
    Duration tcpCloseWait;

    @Option(names = "--conntrack-tcp-be-liberal", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = FlagConverters.BoolConverter.class,
            description = "Enable liberal mode for tracking TCP packets by setting nf_conntrack_tcp_be_liberal to 1.")
    boolean tcpBeLiberal;

    @Option(names = "--conntrack-udp-timeout", paramLabel = "DURATION", defaultValue = "0s",
            converter = FlagConverters.DurationConverter.class,
            description = "Idle timeout for UNREPLIED UDP connections (0 to leave as-is).")
    Duration udp;

    @Option(names = "--conntrack-udp-timeout-stream", paramLabel = "DURATION", defaultValue = "0s",
            converter = FlagConverters.DurationConverter.class,
            description = "Idle timeout for ASSURED UDP connections (0 to leave as-is).")
    Duration udpStream;

    @Option(names = "--oom-score-adj", paramLabel = "N", defaultValue = "-999", converter = OomScore.class,
            description = "The oom-score-adj value for the proxy process, within [-1000, 1000]. Default: ${DEFAULT-VALUE}.")
    int oomScoreAdj;

    @Option(names = "--init-only", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            converter = FlagConverters.BoolConverter.class,
            description = "Perform the initialization steps that need full root privileges (the conntrack settings "
                    + "above, the mode's kernel settings), then exit; the proxy can then run with only CAP_NET_ADMIN.")
    boolean initOnly;

    /** The conntrack settings as given. */
    public ConntrackSettings conntrack() {
        return new ConntrackSettings(maxPerCore, min, tcpEstablished, tcpCloseWait, tcpBeLiberal, udp, udpStream);
    }

    /** --conntrack-tcp-timeout-established, which userspace mode also uses as its idle timeout. */
    public Duration tcpEstablishedTimeout() {
        return tcpEstablished;
    }

    public int oomScoreAdj() {
        return oomScoreAdj;
    }

    public boolean initOnly() {
        return initOnly;
    }

    /** A 32-bit count that must not be negative, as upstream's validation has it. */
    static final class NonNegative implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int n = FlagConverters.integer(value);
            if (n < 0) {
                throw new TypeConversionException("\"" + value + "\" must be greater than or equal to 0");
            }
            return n;
        }
    }

    static final class OomScore implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int n = FlagConverters.integer(value);
            if (n < -1000 || n > 1000) {
                throw new TypeConversionException("\"" + value + "\" must be within the range [-1000, 1000]");
            }
            return n;
        }
    }
}
