package dev.ferry.proxy.health;

import dev.ferry.core.NamespacedName;

/**
 * The answer of a health check node port, as upstream's service health server gives it: 200 when
 * the Service has local endpoints and the proxy is healthy, else 503; headers
 * {@code Content-Type: application/json}, {@code X-Content-Type-Options: nosniff} and
 * {@code X-Load-Balancing-Endpoint-Weight: <local endpoints>}; a JSON body indented with tabs
 * and without a final newline:
 *
 * <pre>
 * {
 * 	"service": {
 * 		"namespace": "ns",
 * 		"name": "svc"
 * 	},
 * 	"localEndpoints": 2,
 * 	"serviceProxyHealthy": true
 * }</pre>
 */
record HealthCheckReply(int status, int localEndpoints, String body) {

    static final String CONTENT_TYPE = "application/json";
    static final String WEIGHT_HEADER = "X-Load-Balancing-Endpoint-Weight";

    static HealthCheckReply of(NamespacedName service, int localEndpoints, boolean proxyHealthy) {
        if (localEndpoints < 0) {
            throw new IllegalArgumentException("negative endpoint count " + localEndpoints);
        }
        int status = localEndpoints > 0 && proxyHealthy ? 200 : 503;
        String body = "{\n"
                + "\t\"service\": {\n"
                + "\t\t\"namespace\": " + quote(service.namespace()) + ",\n"
                + "\t\t\"name\": " + quote(service.name()) + "\n"
                + "\t},\n"
                + "\t\"localEndpoints\": " + localEndpoints + ",\n"
                + "\t\"serviceProxyHealthy\": " + proxyHealthy + "\n"
                + "}";
        return new HealthCheckReply(status, localEndpoints, body);
    }

    /** A JSON string. Names are DNS labels already; escaping is for safety, not for looks. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
