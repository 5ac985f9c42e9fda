package dev.ferry.proxy.health;

import dev.ferry.core.NamespacedName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HealthCheckReplyTest {
    static final NamespacedName SVC = new NamespacedName("ns1", "web");

    @Test
    void okWithLocalEndpointsAndAHealthyProxy() {
        HealthCheckReply r = HealthCheckReply.of(SVC, 2, true);
        assertEquals(200, r.status());
        assertEquals(2, r.localEndpoints());
        // upstream's text exactly: tab indentation, this field order, no final newline
        assertEquals("{\n\t\"service\": {\n\t\t\"namespace\": \"ns1\",\n\t\t\"name\": \"web\"\n\t},\n"
                + "\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}", r.body());
    }

    @Test
    void unavailableWithoutLocalEndpointsOrWhenTheProxyIsUnhealthy() {
        assertEquals(503, HealthCheckReply.of(SVC, 0, true).status());
        HealthCheckReply unhealthy = HealthCheckReply.of(SVC, 3, false);
        assertEquals(503, unhealthy.status());
        assertEquals(3, unhealthy.localEndpoints());
        assertEquals(true, unhealthy.body().contains("\t\"localEndpoints\": 3,\n\t\"serviceProxyHealthy\": false\n}"));
        assertThrows(IllegalArgumentException.class, () -> HealthCheckReply.of(SVC, -1, true));
    }

    @Test
    void quotesEscapeWhatJsonNeeds() {
        assertEquals("\"a\\\"b\\\\c\\u000a\"", HealthCheckReply.quote("a\"b\\c\n"));
    }
}
