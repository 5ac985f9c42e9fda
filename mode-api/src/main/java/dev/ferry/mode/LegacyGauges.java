package dev.ferry.mode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Gauges whose upstream names end in {@code _total}, which Prometheus' Java client refuses for
 * anything but a counter (kubeproxy_sync_proxy_rules_iptables_total and
 * kubeproxy_sync_proxy_rules_no_local_endpoints_total are gauges upstream). Written in the text format after the client's own output, so dashboards keep
 * their queries.
 *
 * <p>Threads: any thread sets, any thread writes; a series map is concurrent.
 */
public final class LegacyGauges {

    /** One gauge with its series, keyed by label values joined (label values are ours, never from the API). */
    public static final class Family {
        private final String name;
        private final String help;
        private final List<String> labelNames;
        private final Map<List<String>, Double> series = new ConcurrentSkipListMap<>(
                (a, b) -> String.join("\u0000", a).compareTo(String.join("\u0000", b)));

        private Family(String name, String help, List<String> labelNames) {
            this.name = name;
            this.help = help;
            this.labelNames = labelNames;
        }

        public void set(double value, String... labelValues) {
            if (labelValues.length != labelNames.size()) {
                throw new IllegalArgumentException(name + " takes " + labelNames.size() + " label values");
            }
            series.put(List.of(labelValues), value);
        }

        private void write(StringBuilder out) {
            if (series.isEmpty()) {
                return; // as a labelled gauge with no series yet: nothing to show
            }
            out.append("# HELP ").append(name).append(' ').append(help).append('\n');
            out.append("# TYPE ").append(name).append(" gauge\n");
            series.forEach((values, value) -> {
                out.append(name).append('{');
                for (int i = 0; i < values.size(); i++) {
                    out.append(i == 0 ? "" : ",").append(labelNames.get(i)).append("=\"")
                            .append(escape(values.get(i))).append('"');
                }
                out.append("} ").append(format(value)).append('\n');
            });
        }
    }

    private final List<Family> families = new CopyOnWriteArrayList<>();

    public Family family(String name, String help, String... labelNames) {
        Family f = new Family(Objects.requireNonNull(name, "name"), help, List.of(labelNames));
        families.add(f);
        return f;
    }

    public void write(OutputStream out) throws IOException {
        StringBuilder text = new StringBuilder();
        for (Family f : families) {
            f.write(text);
        }
        out.write(text.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** As the client writes values: integers as "3.0". */
    private static String format(double v) {
        return Double.toString(v);
    }
}
