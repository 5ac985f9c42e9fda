package dev.ferry.proxy.health;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * Upstream's /healthz and /livez body, field for field and in its order:
 * {@code {"lastUpdated":T,"currentTime":T,"nodeEligible":B,"healthy":B,"status":{"IPv4":{"lastUpdated":T,"healthy":B}}}}.
 * nodeEligible only in /healthz answers; "healthy" is the proxiers' health alone (the status code
 * also weighs the Node); status lists each proxier (IP family) that has synced once. Times are
 * written as Go writes a time.Time (RFC 3339, fraction without trailing zeros, the zero time
 * before the first sync); while healthy, lastUpdated is the current time, as upstream keeps it.
 */
final class HealthBody {

    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss")
            .withZone(ZoneOffset.UTC);
    private static final String GO_ZERO_TIME = "0001-01-01T00:00:00Z";

    private HealthBody() {
    }

    /**
     * @param nodeEligible null for /livez (the field is left out)
     * @param answered200  the answer is 200: lastUpdated then shows the current time
     */
    static String json(ProxyHealth.Report report, Boolean nodeEligible, boolean answered200) {
        StringBuilder out = new StringBuilder(160);
        out.append("{\"lastUpdated\":\"").append(goTime(answered200 ? report.now() : report.lastUpdated()))
                .append("\",\"currentTime\":\"").append(goTime(report.now())).append('"');
        if (nodeEligible != null) {
            out.append(",\"nodeEligible\":").append(nodeEligible);
        }
        out.append(",\"healthy\":").append(report.healthy());
        if (!report.proxiers().isEmpty()) {
            out.append(",\"status\":{");
            boolean first = true;
            for (Map.Entry<String, ProxyHealth.Proxier> e : report.proxiers().entrySet()) {
                out.append(first ? "" : ",").append('"').append(e.getKey()).append("\":{\"lastUpdated\":\"")
                        .append(goTime(e.getValue().lastUpdated())).append("\",\"healthy\":")
                        .append(e.getValue().healthy()).append('}');
                first = false;
            }
            out.append('}');
        }
        return out.append('}').toString();
    }

    /** RFC 3339 in UTC with the fraction Go's RFC3339Nano keeps (no trailing zeros). */
    static String goTime(Instant t) {
        if (t == null) {
            return GO_ZERO_TIME;
        }
        StringBuilder s = new StringBuilder(SECONDS.format(t));
        int nanos = t.getNano();
        if (nanos != 0) {
            String fraction = String.format("%09d", nanos).replaceAll("0+$", "");
            s.append('.').append(fraction);
        }
        return s.append('Z').toString();
    }
}
