package dev.ferry.proxy.flags;

import dev.ferry.mode.FlagConverters;
import dev.ferry.mode.FlagNames;
import dev.ferry.mode.GoDuration;
import dev.ferry.mode.InvalidFlagException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * How the proxy talks to the API server, beyond --kubeconfig and --master: the informers' resync
 * period (acted on), and client-go's rate limit and content type, which fabric8's client does not
 * have (accepted, with a warning).
 */
public final class ApiClientFlags implements FlagGroup {

    static final String QPS = "--kube-api-qps";
    static final String BURST = "--kube-api-burst";
    static final String CONTENT_TYPE = "--kube-api-content-type";
    static final String CONFIG_SYNC_PERIOD = "--config-sync-period";

    static final float DEFAULT_QPS = 5;
    static final int DEFAULT_BURST = 10;
    static final String DEFAULT_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";
    /** What fabric8 sends and accepts. */
    static final String JSON = "application/json";

    @Option(names = QPS, paramLabel = "QPS", defaultValue = "5", converter = QpsConverter.class,
            description = "Accepted; fabric8's client has no client-side rate limit (ferry makes few requests). "
                    + "Default: ${DEFAULT-VALUE}.")
    float qps;

    @Option(names = BURST, paramLabel = "N", defaultValue = "10", converter = BurstConverter.class,
            description = "Accepted; see --kube-api-qps. Default: ${DEFAULT-VALUE}.")
    int burst;

    @Option(names = CONTENT_TYPE, paramLabel = "TYPE", defaultValue = DEFAULT_CONTENT_TYPE,
            description = "Accepted; fabric8's client sends and reads application/json. Default: ${DEFAULT-VALUE}.")
    String contentType;

    @Option(names = CONFIG_SYNC_PERIOD, paramLabel = "DURATION", defaultValue = "15m",
            converter = FlagConverters.DurationConverter.class,
            description = "How often the informers replay the objects they hold (resync); must be greater than 0. "
                    + "Default: ${DEFAULT-VALUE}.")
    Duration configSyncPeriod;

    /** The informers' resync period. */
    public Duration configSyncPeriod() {
        return configSyncPeriod;
    }

    @Override
    public void validate(FlagNames names, FeatureGates gates) {
        if (configSyncPeriod.isZero() || configSyncPeriod.isNegative()) {
            throw new InvalidFlagException(names.of(CONFIG_SYNC_PERIOD) + ": must be greater than 0, got "
                    + GoDuration.format(configSyncPeriod));
        }
    }

    @Override
    public List<String> warnings(FlagNames names, Predicate<String> given) {
        List<String> out = new ArrayList<>();
        if (given.test(QPS) || given.test(BURST) || qps != DEFAULT_QPS || burst != DEFAULT_BURST) {
            out.add(names.of(given.test(QPS) || qps != DEFAULT_QPS ? QPS : BURST) + " is accepted and not applied: fabric8's "
                    + "client has no client-side rate limit; ferry's requests are few (a list and a watch of Services, "
                    + "EndpointSlices and its Node, and its events)");
        }
        if ((given.test(CONTENT_TYPE) || !contentType.equals(DEFAULT_CONTENT_TYPE)) && !contentType.equals(JSON)) {
            out.add(names.of(CONTENT_TYPE) + "=" + contentType + " is not applied: fabric8's client sends and reads "
                    + JSON + " only");
        }
        return out;
    }

    /** client-go's QPS: a float32; any value is accepted (negative turns client-go's limit off). */
    static final class QpsConverter implements ITypeConverter<Float> {
        @Override
        public Float convert(String value) {
            try {
                float f = Float.parseFloat(value);
                if (!Float.isNaN(f) && !Float.isInfinite(f)) {
                    return f;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new TypeConversionException("\"" + value + "\" is not a number");
        }
    }

    /** client-go's burst: a non-negative int32, as upstream's validation wants. */
    static final class BurstConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int n = FlagConverters.integer(value);
            if (n < 0) {
                throw new TypeConversionException("\"" + value + "\" is negative (must be 0 or more)");
            }
            return n;
        }
    }
}
