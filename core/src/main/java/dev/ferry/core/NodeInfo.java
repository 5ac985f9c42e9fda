package dev.ferry.core;

import java.util.Map;
import java.util.Objects;

/** This node: its name and labels (for the topology zone). */
public record NodeInfo(String name, Map<String, String> labels) {

    public static final String ZONE_LABEL = "topology.kubernetes.io/zone";

    public NodeInfo {
        Objects.requireNonNull(name, "name");
        labels = Map.copyOf(labels);
    }

    /** The zone label, "" when the node has none. */
    public String zone() {
        return labels.getOrDefault(ZONE_LABEL, "");
    }
}
