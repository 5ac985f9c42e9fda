package dev.ferry.userspace;

import dev.ferry.core.IpAddresses;
import dev.ferry.core.IpFamily;
import dev.ferry.core.Protocol;
import dev.ferry.iptables.ChainNames;
import dev.ferry.iptables.Golden;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.FakeRunner;
import dev.ferry.netfilter.IptablesDump;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.ferry.userspace.PortalWriterTest.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PortalRules} against a fake kernel: reads, one restore, failures, roll-back. */
class PortalRulesTest {

    private static final InetAddress HOST = IpAddresses.parse("10.0.0.1");
    private final Portal web = new Portal(port("ns", "web", "http", Protocol.TCP, 80, 30080,
            List.of("172.30.0.6"), List.of(), List.of()), 40002);
    private final Portal sctp = new Portal(port("ns", "sig", "", Protocol.SCTP, 3868, 0,
            List.of("172.30.0.7"), List.of(), List.of()), 40003);

    private static long restores(FakeRunner fake) {
        return fake.commands.stream().filter(c -> c.get(0).endsWith("-restore")).count();
    }

    @Test
    void oneRestorePerApplyAndReapplyChangesNothing() throws Exception {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(PortalWriterTest.IPTABLES_MODE_NODE));
        PortalRules rules = new PortalRules(IpFamily.IPV4, fake, ChainNames::isIptablesModeChain);
        PortalRules.Applied applied = rules.apply(List.of(web, sctp), HOST);
        assertTrue(applied.lines() > 0);
        assertEquals(1, restores(fake));
        assertEquals(List.of("iptables-restore", "-w", "5", "-W", "100000", "--noflush", "--counters"),
                fake.commands.get(fake.commands.size() - 1));
        assertEquals(1, applied.warnings().size(), applied.warnings().toString());
        assertTrue(applied.warnings().get(0).startsWith("ns/sig: protocol SCTP"), applied.warnings().toString());
        String after = fake.state.toSaveText();
        assertFalse(after.contains("KUBE-SERVICES"), after);
        assertTrue(fake.commands.stream().anyMatch(c -> c.contains("mangle")), "the first apply reads mangle");

        fake.commands.clear();
        rules.apply(List.of(sctp, web), HOST);
        assertEquals(after, fake.state.toSaveText(), "re-apply: same tables");
        assertFalse(fake.commands.stream().anyMatch(c -> c.contains("mangle")), "later applies leave mangle alone");
        assertFalse(fake.restored.get(fake.restored.size() - 1).contains("-I "), "no jump inserted twice");

        rules.apply(List.of(), HOST);
        String empty = fake.state.toSaveText();
        assertFalse(empty.contains("ns/web"), empty);
        assertTrue(empty.contains(":KUBE-PORTALS-CONTAINER"), "chains and jumps stay with no portals");
    }

    @Test
    void aFailedRestoreThrowsWithItsMessageAndChangesNothing() throws Exception {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(PortalWriterTest.IPTABLES_MODE_NODE));
        fake.failRestoreWith = "iptables-restore: line 3 failed\n";
        fake.failRestores = 1;
        PortalRules rules = new PortalRules(IpFamily.IPV4, fake, ChainNames::isIptablesModeChain);
        String before = fake.state.toSaveText();
        IOException e = assertThrows(IOException.class, () -> rules.apply(List.of(web), HOST));
        assertTrue(e.getMessage().startsWith("iptables-restore exited 2: iptables-restore: line 3 failed; failing line 3:"),
                e.getMessage());
        assertEquals(before, fake.state.toSaveText());
        // The next apply still removes the leftovers.
        rules.apply(List.of(web), HOST);
        assertFalse(fake.state.toSaveText().contains("KUBE-SERVICES"));
    }

    @Test
    void filterAndMangleCommittedBeforeNatFailedAreUndone() throws Exception {
        FakeRunner fake = new FakeRunner(IptablesDump.parse(PortalWriterTest.IPTABLES_MODE_NODE));
        // Plays nf_tables: tables before nat are committed, nat is rejected.
        CommandRunner natFails = new CommandRunner() {
            boolean failed;

            @Override
            public Result run(List<String> argv, byte[] stdin) throws IOException {
                String payload = stdin == null ? "" : new String(stdin, StandardCharsets.UTF_8);
                if (!failed && argv.get(0).endsWith("-restore") && payload.contains("*nat\n")) {
                    failed = true;
                    fake.state = fake.state.apply(payload.substring(0, payload.indexOf("*nat\n")));
                    int line = (int) payload.substring(0, payload.indexOf("*nat\n")).lines().count() + 2;
                    return new Result(1, "", "iptables-restore: line " + line + " failed\n");
                }
                return fake.run(argv, stdin);
            }
        };
        PortalRules rules = new PortalRules(IpFamily.IPV4, natFails, ChainNames::isIptablesModeChain);
        String before = fake.state.toSaveText();
        IOException e = assertThrows(IOException.class, () -> rules.apply(List.of(web), HOST));
        assertTrue(e.getMessage().endsWith("(mangle and filter rolled back)"), e.getMessage());
        // Chains re-created by the roll-back are declared later; what they hold and the jumps are the same.
        assertEquals(Golden.normalize(before), Golden.normalize(fake.state.toSaveText()),
                "leftovers and NodePort ACCEPT rules put back as they were");
        assertEquals(before.lines().filter(l -> l.startsWith("-A INPUT") || l.startsWith("-A FORWARD")).toList(),
                fake.state.toSaveText().lines().filter(l -> l.startsWith("-A INPUT") || l.startsWith("-A FORWARD")).toList(),
                "jumps back at their old positions");
    }

    @Test
    void noExceptionButIOExceptionEscapes() {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        PortalRules rules = new PortalRules(IpFamily.IPV6, fake, ChainNames::isIptablesModeChain);
        IOException wrongFamily = assertThrows(IOException.class, () -> rules.apply(List.of(web), HOST));
        assertTrue(wrongFamily.getMessage().contains("host address 10.0.0.1 is not IPV6"), wrongFamily.getMessage());
        assertThrows(IOException.class, () -> rules.apply(null, HOST));
        fake.throwOnEverything = true;
        IOException boom = assertThrows(IOException.class,
                () -> new PortalRules(IpFamily.IPV4, fake, ChainNames::isIptablesModeChain).apply(List.of(web), HOST));
        assertTrue(boom.getMessage().contains("boom: iptables-save"), boom.getMessage());
        assertEquals(0, restores(fake));
        CommandRunner garbage = (argv, stdin) -> new CommandRunner.Result(0, "*nat\n-A NOPE -j X\nCOMMIT\n", "");
        assertThrows(IOException.class, () -> new PortalRules(IpFamily.IPV4, garbage, ChainNames::isIptablesModeChain).apply(List.of(web), HOST));
    }

    @Test
    void ipv6UsesIp6tables() throws Exception {
        FakeRunner fake = new FakeRunner(IptablesDump.empty());
        Portal v6 = new Portal(port("ns", "v6", "", Protocol.UDP, 53, 0, List.of("fd00::53"), List.of(), List.of()), 40053);
        new PortalRules(IpFamily.IPV6, fake, ChainNames::isIptablesModeChain).apply(List.of(v6), IpAddresses.parse("fd00::1"));
        assertTrue(fake.commands.stream().allMatch(c -> c.get(0).startsWith("ip6tables-")), fake.commands.toString());
        assertTrue(fake.state.toSaveText().contains("-j DNAT --to-destination [fd00::1]:40053"), fake.state.toSaveText());
    }
}
