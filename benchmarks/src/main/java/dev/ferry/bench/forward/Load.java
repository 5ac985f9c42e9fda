package dev.ferry.bench.forward;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The two load generators, run to completion and parsed: iperf3 (bulk) and wrk (request rate). */
final class Load {

    /** What one wrk run reported. */
    record WrkResult(double requestsPerSecond, long requests, double p50Micros, double p99Micros, String errors) {
    }

    /**
     * {@code iperf3 -c -J -n} with {@code streams} parallel connections of {@code bytesPerStream}
     * each (iperf3's -n is the total over all streams); returns the receiver's bits per second
     * (end.sum_received), i.e. what arrived at the backend.
     */
    static double iperf(String cpus, InetSocketAddress target, int streams, long bytesPerStream) {
        List<String> argv = List.of("iperf3", "-c", target.getAddress().getHostAddress(), "-p",
                Integer.toString(target.getPort()), "-P", Integer.toString(streams),
                "-n", Long.toString(bytesPerStream * streams), "-J");
        String out = Procs.run(cpus, argv, 300);
        return iperfReceivedBitsPerSecond(out);
    }

    static double iperfReceivedBitsPerSecond(String json) {
        Matcher error = Pattern.compile("\"error\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (error.find()) {
            throw new IllegalStateException("iperf3: " + error.group(1));
        }
        // only the end summary has "sum_received" (the intervals have "sum")
        int sum = json.lastIndexOf("\"sum_received\"");
        Matcher bps = Pattern.compile("\"bits_per_second\"\\s*:\\s*([0-9.eE+-]+)").matcher(json);
        if (sum < 0 || !bps.find(sum)) {
            throw new IllegalStateException("iperf3 output without end.sum_received.bits_per_second:\n" + json);
        }
        return Double.parseDouble(bps.group(1));
    }

    /** {@code wrk -c -t -d --latency} on {@code http://target/}, with "Connection: close" on every request when {@code close}. */
    static WrkResult wrk(String cpus, InetSocketAddress target, int connections, int threads, int seconds, boolean close) {
        List<String> argv = new ArrayList<>(List.of("wrk", "-c", Integer.toString(connections), "-t", Integer.toString(threads),
                "-d", seconds + "s", "--latency", "--timeout", "5s"));
        if (close) {
            argv.addAll(List.of("-H", "Connection: close"));
        }
        argv.add("http://" + target.getAddress().getHostAddress() + ":" + target.getPort() + "/");
        return parseWrk(Procs.run(cpus, argv, seconds + 60L));
    }

    static WrkResult parseWrk(String out) {
        double rps = number(out, "Requests/sec:\\s+([0-9.]+)");
        long requests = (long) number(out, "(\\d+) requests in ");
        double p50 = micros(out, "\\s50%\\s+([0-9.]+)(us|ms|s)");
        double p99 = micros(out, "\\s99%\\s+([0-9.]+)(us|ms|s)");
        List<String> errors = new ArrayList<>();
        Matcher socket = Pattern.compile("Socket errors: (connect \\d+, read \\d+, write \\d+, timeout \\d+)").matcher(out);
        if (socket.find()) {
            errors.add(socket.group(1));
        }
        Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
        if (non2xx.find()) {
            errors.add("non-2xx " + non2xx.group(1));
        }
        return new WrkResult(rps, requests, p50, p99, String.join("; ", errors));
    }

    private static double number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("wrk output without /" + regex + "/:\n" + out);
        }
        return Double.parseDouble(m.group(1));
    }

    private static double micros(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) {
            return Double.NaN;
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "us" -> v;
            case "ms" -> v * 1e3;
            default -> v * 1e6;
        };
    }

    private Load() {
    }
}
