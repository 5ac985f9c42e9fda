package dev.ferry.bench.footprint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The proxy container's memory limit in deploy/daemonset.yaml, as Docker's --memory value. */
final class DaemonSetLimits {

    private DaemonSetLimits() {
    }

    /** "512Mi" becomes "512m", "1Gi" "1g"; "none" when the DaemonSet sets no limit. */
    static String memory(Path daemonSet) {
        try {
            JsonNode limit = new ObjectMapper(new YAMLFactory()).readTree(daemonSet.toFile())
                    .path("spec").path("template").path("spec").path("containers").path(0)
                    .path("resources").path("limits").path("memory");
            return limit.isMissingNode() ? "none" : dockerQuantity(limit.asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String dockerQuantity(String quantity) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi)").matcher(quantity);
        if (!m.matches()) {
            throw new IllegalArgumentException("a memory limit in Ki, Mi or Gi, got " + quantity);
        }
        return m.group(1) + m.group(2).substring(0, 1).toLowerCase(java.util.Locale.ROOT);
    }
}
