package dev.ferry.proxy.metrics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A scrape in Prometheus' text format, read back: each family's type, and each sample's value by
 * its series as written ({@code name{label="value",...}}). Strict about the lines it knows, so a
 * malformed exposition fails the test.
 */
public final class Scrape {

    public final String text;
    public final Map<String, String> types = new LinkedHashMap<>();
    public final Map<String, Double> samples = new TreeMap<>();

    public Scrape(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("# HELP ")) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                if (parts.length != 2 || types.put(parts[0], parts[1]) != null) {
                    throw new AssertionError("bad or repeated TYPE line: " + line);
                }
                continue;
            }
            if (line.startsWith("#")) {
                throw new AssertionError("unexpected comment: " + line);
            }
            int space = line.lastIndexOf(' ');
            String series = line.substring(0, space);
            if (samples.put(series, Double.parseDouble(line.substring(space + 1))) != null) {
                throw new AssertionError("repeated series: " + line);
            }
        }
    }

    /** The value of one series, failing when it is absent. */
    public double value(String series) {
        Double v = samples.get(series);
        if (v == null) {
            throw new AssertionError("no series " + series + " in:\n" + text);
        }
        return v;
    }

    public boolean has(String series) {
        return samples.containsKey(series);
    }

    /** The series of one family (its name, or name_bucket/_sum/_count for histograms). */
    public List<String> seriesOf(String name) {
        return samples.keySet().stream().filter(s -> s.equals(name) || s.startsWith(name + "{")).toList();
    }
}
