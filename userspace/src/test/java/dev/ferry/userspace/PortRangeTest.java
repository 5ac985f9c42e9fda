package dev.ferry.userspace;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortRangeTest {

    @Test
    void upstreamSyntaxes() {
        assertEquals(new PortRange(30000, 30100), PortRange.parse("30000-30100"));
        assertEquals(new PortRange(30000, 30010), PortRange.parse("30000+10"));
        assertEquals(new PortRange(8080, 8080), PortRange.parse("8080"));
        assertTrue(PortRange.parse("").ephemeral());
        assertTrue(PortRange.parse("0").ephemeral());
        assertTrue(PortRange.parse("0-0").ephemeral());
    }

    @Test
    void portsWrapAroundTheRange() {
        PortRange r = PortRange.parse("100-102");
        assertEquals(3, r.size());
        assertEquals(100, r.port(0));
        assertEquals(102, r.port(2));
        assertEquals(100, r.port(3));
    }

    @Test
    void badRangesSayWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PortRange.parse("200-100"));
        assertTrue(e.getMessage().contains("\"200-100\""), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PortRange.parse("1-70000"));
        assertThrows(IllegalArgumentException.class, () -> PortRange.parse("0-10"));
        assertThrows(IllegalArgumentException.class, () -> PortRange.parse("abc"));
        assertThrows(IllegalArgumentException.class, () -> PortRange.parse("-5"));
    }
}
