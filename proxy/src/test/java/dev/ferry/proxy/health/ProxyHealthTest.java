package dev.ferry.proxy.health;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProxyHealthTest {
    static final Duration SYNC_PERIOD = Duration.ofSeconds(30);

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final ManualClock clock = new ManualClock();
    private final ProxyHealth health = new ProxyHealth(SYNC_PERIOD.multipliedBy(2), clock);

    @Test
    void healthyBeforeAnythingHappensAndWhileStartingUp() {
        assertTrue(health.healthy());
        assertNull(health.status().lastUpdated());
        health.queued("v4");
        clock.advance(Duration.ofMinutes(10));
        assertTrue(health.healthy(), "a proxier that never reported an update is starting up, not judged");
    }

    @Test
    void aChangeWaitingTwiceTheSyncPeriodMakesItUnhealthyUntilTheNextSuccessfulSync() {
        health.updated("v4");
        health.queued("v4");
        clock.advance(Duration.ofSeconds(59));
        assertTrue(health.healthy(), "59 s < 2 x 30 s");
        health.queued("v4"); // a later change does not reset the oldest
        clock.advance(Duration.ofSeconds(1));
        ProxyHealth.Status s = health.status();
        assertFalse(s.healthy(), "the oldest change has waited 60 s");
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), s.lastUpdated());
        assertEquals(clock.now, s.now());

        health.updated("v4");
        assertTrue(health.healthy());
        assertEquals(clock.now, health.status().lastUpdated());
    }

    @Test
    void oneLateProxierIsEnoughAndItsLastUpdateIsReported() {
        health.updated("v4");
        health.updated("v6");
        Instant v6Updated = clock.now;
        health.queued("v4");
        health.queued("v6");
        clock.advance(Duration.ofSeconds(30));
        health.updated("v4");
        clock.advance(Duration.ofSeconds(30));
        ProxyHealth.Status s = health.status();
        assertFalse(s.healthy(), "v6 has had a change waiting 60 s");
        assertEquals(v6Updated, s.lastUpdated());
        health.updated("v6");
        assertTrue(health.healthy());
    }

    @Test
    void forSyncPeriodUsesTwiceThePeriodAndRejectsNonsense() {
        assertTrue(ProxyHealth.forSyncPeriod(SYNC_PERIOD).healthy());
        assertThrows(IllegalArgumentException.class, () -> new ProxyHealth(Duration.ZERO, clock));
        assertThrows(NullPointerException.class, () -> health.queued(null));
    }
}
