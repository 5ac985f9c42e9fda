package dev.ferry.ipvs;

import dev.ferry.core.IpFamily;
import dev.ferry.core.LocalTraffic;
import dev.ferry.core.Protocol;
import dev.ferry.netfilter.CommandRunner;
import dev.ferry.netfilter.NetworkSettings;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The apply step's commands and their order, with a scripted runner (the kernel is in IpvsRulesPrivilegedTest). */
class IpvsRulesTest {

    private static final class Scripted implements CommandRunner {
        final List<List<String>> calls = new ArrayList<>();
        final List<String> inputs = new ArrayList<>();
        final Function<List<String>, Result> answer;

        Scripted(Function<List<String>, Result> answer) {
            this.answer = answer;
        }

        @Override
        public Result run(List<String> argv, byte[] stdin) {
            calls.add(List.copyOf(argv));
            inputs.add(stdin == null ? null : new String(stdin, StandardCharsets.UTF_8));
            return answer.apply(argv);
        }
    }

    private static IpvsSets sets(IpFamily family) {
        Snap snap = new Snap();
        if (family == IpFamily.IPV4) {
            snap.port("ns", "a", "", Protocol.TCP, "10.96.0.10", 80).done();
        } else {
            snap.port("ns", "a", "", Protocol.TCP, "fd00::10", 80).done();
        }
        return new IpsetWriter(family, NetworkSettings.defaults()).write(snap.build(), List.of());
    }

    @Test
    void ipsetRestoreThenJumpChecksThenOneNoflushRestoreWithOnlyTheMissingJumps() throws IOException {
        Scripted runner = new Scripted(argv -> argv.contains("-C") && argv.contains("PREROUTING")
                ? new CommandRunner.Result(1, "", "iptables: Bad rule (does a matching rule exist in that chain?).")
                : new CommandRunner.Result(0, "", ""));
        IpvsSets sets = sets(IpFamily.IPV4);
        IpvsRules.Applied applied = IpvsRules.apply(runner, sets, LocalTraffic.NONE,
                new IpvsRuleWriter(IpFamily.IPV4, NetworkSettings.defaults(), true));
        assertEquals(List.of("ipset", "restore"), runner.calls.get(0));
        assertEquals(sets.restoreText(), runner.inputs.get(0));
        assertEquals(List.of("iptables", "-w", "5", "-W", "100000", "-t", "nat", "-C", "OUTPUT", "-m", "comment", "--comment",
                "kubernetes service portals", "-j", "KUBE-SERVICES"), runner.calls.get(1));
        assertEquals(1 + IpvsChains.JUMPS.size() + 1, runner.calls.size());
        assertEquals(List.of("iptables-restore", "-w", "5", "-W", "100000", "--noflush", "--counters"),
                runner.calls.get(runner.calls.size() - 1));
        String restore = runner.inputs.get(runner.inputs.size() - 1);
        assertEquals(1, restore.lines().filter(l -> l.startsWith("-I ")).count(), restore);
        assertTrue(restore.contains("-I PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"));
        assertEquals(1, applied.jumpsAdded());
    }

    @Test
    void ipv6UsesIp6tables() throws IOException {
        Scripted runner = new Scripted(argv -> new CommandRunner.Result(0, "", ""));
        IpvsRules.apply(runner, sets(IpFamily.IPV6), LocalTraffic.NONE, new IpvsRuleWriter(IpFamily.IPV6, NetworkSettings.defaults(), true));
        assertEquals("ip6tables", runner.calls.get(1).get(0));
        assertEquals("ip6tables-restore", runner.calls.get(runner.calls.size() - 1).get(0));
    }

    @Test
    void aFailedIpsetRestoreStopsBeforeAnyIptablesChange() {
        Scripted runner = new Scripted(argv -> argv.get(0).equals("ipset")
                ? new CommandRunner.Result(1, "", "ipset v7.17: Error in line 3: Kernel error received: set type not supported\n")
                : new CommandRunner.Result(0, "", ""));
        IOException e = assertThrows(IOException.class, () -> IpvsRules.apply(runner, sets(IpFamily.IPV4), LocalTraffic.NONE,
                new IpvsRuleWriter(IpFamily.IPV4, NetworkSettings.defaults(), true)));
        assertTrue(e.getMessage().contains("Error in line 3"), e.getMessage());
        assertEquals(1, runner.calls.size());
    }

    @Test
    void aFailedIptablesRestoreIsReportedWithItsMessage() {
        Scripted runner = new Scripted(argv -> argv.get(0).equals("iptables-restore")
                ? new CommandRunner.Result(2, "", "iptables-restore: line 12 failed\n")
                : new CommandRunner.Result(0, "", ""));
        IOException e = assertThrows(IOException.class, () -> IpvsRules.apply(runner, sets(IpFamily.IPV4), LocalTraffic.NONE,
                new IpvsRuleWriter(IpFamily.IPV4, NetworkSettings.defaults(), true)));
        assertTrue(e.getMessage().startsWith("iptables-restore exited 2: iptables-restore: line 12 failed; failing line 12: "),
                e.getMessage());
    }
}
