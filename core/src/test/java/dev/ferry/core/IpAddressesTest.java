package dev.ferry.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpAddressesTest {

    @ParameterizedTest
    @CsvSource({
            "10.0.0.1, 10.0.0.1",
            "0.0.0.0, 0.0.0.0",
            "fd00::1, fd00::1",
            "FD00:0:0:0:0:0:0:1, fd00::1",
            "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
            "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
            "::, ::",
            "::1, ::1",
    })
    void parsesAndFormatsCanonically(String in, String out) {
        assertEquals(out, IpAddresses.format(IpAddresses.parse(in)));
    }

    @Test
    void socketAddressesReadAsOperatorsWriteThem() {
        assertEquals("[::]:10256", IpAddresses.hostPort(new InetSocketAddress(IpAddresses.parse("::"), 10256)));
        assertEquals("0.0.0.0:10256", IpAddresses.hostPort(new InetSocketAddress(IpAddresses.parse("0.0.0.0"), 10256)));
        assertEquals("127.0.0.1:10249", IpAddresses.hostPort(new InetSocketAddress(IpAddresses.parse("127.0.0.1"), 10249)));
        assertEquals("[fd00::1]:80", IpAddresses.hostPort(new InetSocketAddress(IpAddresses.parse("FD00:0:0:0:0:0:0:1"), 80)));
        assertEquals("example.com:80", IpAddresses.hostPort(InetSocketAddress.createUnresolved("example.com", 80)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1 ", "example.com", "1:2:3:4:5:6:7:8:9",
            "1::2::3", "[::1]", "fe80::1%eth0", "12345::", "10.0.0.-1", "::ffff:10.0.0.1"})
    void rejectsWhatIsNotAPlainLiteral(String in) {
        assertFalse(IpAddresses.isValid(in));
        assertThrows(IllegalArgumentException.class, () -> IpAddresses.parse(in));
    }

    @ParameterizedTest
    @CsvSource({"10.0.0.0/8, 10.255.1.2, true", "10.0.0.0/8, 11.0.0.1, false", "10.1.2.3/16, 10.1.9.9, true",
            "fd00::/64, fd00::5, true", "fd00::/64, fd01::5, false", "0.0.0.0/0, 1.2.3.4, true", "10.0.0.0/8, fd00::1, false"})
    void cidrContains(String cidr, String ip, boolean expected) {
        assertEquals(expected, Cidr.parse(cidr).contains(IpAddresses.parse(ip)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "fd00::/129", "10.0.0.0/-1"})
    void rejectsBadCidrs(String in) {
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse(in));
    }

    @ParameterizedTest
    @CsvSource({"10.1.2.3/16, 10.1.0.0/16", "10.0.0.5, 10.0.0.5/32", "fd00::5/64, fd00::/64"})
    void cidrIsCanonical(String in, String out) {
        assertEquals(out, Cidr.parse(in).toString());
        assertTrue(Cidr.parse(in).contains(Cidr.parse(in).network()));
    }
}
